"""The last steps: lay out the views and pack the sample the model receives.

A packed sample is ``{'inputs': uint8 tensor (views, C, T, H, W), 'data_samples':
ActionDataSample}``. The tensor shares memory with the array :class:`FormatShape` made
contiguous, so the clip is copied once between the decoder and the data loader.
"""
from typing import Sequence

import numpy as np
import torch

from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample
from .base import BaseTransform

#: metainfo every packed sample carries when the pipeline produced it
DEFAULT_META_KEYS = ('filename', 'frame_dir', 'frame_inds', 'num_clips', 'clip_len')


@TRANSFORMS.register_module()
class FormatShape(BaseTransform):
    """Arrange the frames as model input.

    ``'NCTHW'``: frames ordered crop-major, then clip, then time ((crops * clips * T, H, W,
    C), as the samplers and crops produce them) become (crops * clips, C, T, H, W), the view
    axis crop-major as mmaction2 0.x. ``'NCHW'``: (frames, C, H, W).

    Reads ``imgs``, ``num_clips``, ``clip_len``; writes ``imgs`` (contiguous) and
    ``input_shape``.

    Args:
        input_format: ``'NCTHW'`` or ``'NCHW'``.
        collapse: drop the view axis (requires exactly one view).
    """

    def __init__(self, input_format: str, collapse: bool = False):
        if input_format not in ('NCTHW', 'NCHW'):
            raise ValueError(f"FormatShape input_format must be 'NCTHW' or 'NCHW', got "
                             f'{input_format!r}')
        self.input_format = input_format
        self.collapse = collapse

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        if not isinstance(imgs, np.ndarray):
            imgs = np.stack(imgs)
        if self.input_format == 'NCTHW':
            num_clips, clip_len = results['num_clips'], results['clip_len']
            if imgs.shape[0] % (num_clips * clip_len):
                raise ValueError(f'FormatShape: {imgs.shape[0]} frames do not split into views '
                                 f'of num_clips={num_clips} x clip_len={clip_len}')
            imgs = imgs.reshape((-1, num_clips, clip_len) + imgs.shape[1:])
            imgs = np.ascontiguousarray(imgs.transpose(0, 1, 5, 2, 3, 4))
            imgs = imgs.reshape((-1, ) + imgs.shape[2:])
        else:
            imgs = np.ascontiguousarray(imgs.transpose(0, 3, 1, 2))
        if self.collapse:
            if imgs.shape[0] != 1:
                raise ValueError(f'FormatShape(collapse=True) needs one view, got {imgs.shape[0]}')
            imgs = imgs[0]
        results['imgs'] = imgs
        results['input_shape'] = imgs.shape
        return results


@TRANSFORMS.register_module()
class PackActionInputs(BaseTransform):
    """Pack ``imgs`` and the annotation into ``{'inputs', 'data_samples'}``.

    ``inputs`` is ``imgs`` as a tensor (no copy when ``imgs`` is contiguous, as after
    FormatShape). ``data_samples`` is an :class:`ActionDataSample` with ``gt_label`` from
    ``label`` (when the results have one) and metainfo: the keys of
    :data:`DEFAULT_META_KEYS` that are present, plus ``meta_keys`` (which must be present).
    """

    def __init__(self, meta_keys: Sequence[str] = ()):
        self.meta_keys = tuple(meta_keys)

    def pack(self, results: dict, extra_keys: Sequence[str] = ()) -> dict:
        if 'imgs' not in results:
            raise KeyError("PackActionInputs needs results['imgs']: put a decoder "
                           '(DecordDecode, PyAVDecode, RawFrameDecode ...) before it')
        imgs = results['imgs']
        inputs = imgs if isinstance(imgs, torch.Tensor) else \
            torch.from_numpy(np.ascontiguousarray(imgs))
        sample = ActionDataSample()
        if results.get('label') is not None:
            sample.set_gt_label(results['label'])
        meta = {k: results[k] for k in DEFAULT_META_KEYS if k in results}
        for key in tuple(self.meta_keys) + tuple(extra_keys):
            if key not in results:
                raise KeyError(f'{type(self).__name__}: meta key {key!r} is not in the results '
                               f'(available: {sorted(results)})')
            meta[key] = results[key]
        sample.set_metainfo(meta)
        return {'inputs': inputs, 'data_samples': sample}

    def transform(self, results: dict) -> dict:
        return self.pack(results)


@TRANSFORMS.register_module()
class Collect(PackActionInputs):
    """AIM's ``Collect(keys, meta_keys)``: the same packing as :class:`PackActionInputs`.

    ``'imgs'`` becomes ``inputs`` and ``'label'`` the ``gt_label`` (always packed when the
    dataset has labels, so evaluation works whatever ``keys`` lists); any other key in
    ``keys`` and every key in ``meta_keys`` go into the metainfo.
    """

    def __init__(self, keys: Sequence[str], meta_keys: Sequence[str] = (),
                 meta_name: str = 'img_metas', nested: bool = False):
        super().__init__(meta_keys=meta_keys)
        if 'imgs' not in keys:
            raise ValueError(f"Collect keys must include 'imgs', got {list(keys)}")
        if nested:
            raise ValueError('Collect(nested=True) is not supported: samples are packed one '
                             'video at a time')
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        return self.pack(results, [k for k in self.keys if k not in ('imgs', 'label')])


@TRANSFORMS.register_module()
class ToTensor(BaseTransform):
    """Convert ``keys`` of the results to tensors; a packed sample passes through unchanged.

    AIM's pipelines end with ``Collect`` then ``ToTensor``; since ``Collect`` already packs
    tensors, ``ToTensor`` has nothing left to do there. Placed before the packing step it
    converts numpy arrays and numbers (arrays without a copy).
    """

    def __init__(self, keys: Sequence[str]):
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        if 'inputs' in results and 'data_samples' in results:
            return results
        for key in self.keys:
            if key not in results:
                raise KeyError(f'ToTensor: key {key!r} is not in the results '
                               f'(available: {sorted(results)})')
            value = results[key]
            if isinstance(value, np.ndarray):
                results[key] = torch.from_numpy(np.ascontiguousarray(value))
            elif not isinstance(value, torch.Tensor):
                results[key] = torch.as_tensor(value)
        return results
