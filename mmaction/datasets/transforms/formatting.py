"""The last steps: lay out the views and pack the sample the model receives.

A packed sample is ``{'inputs': uint8 tensor (views, C, T, H, W), 'data_samples':
ActionDataSample}``. The tensor shares memory with the array :class:`FormatShape` made
contiguous, so the clip is copied once between the decoder and the data loader.
"""
from collections import abc
from typing import Sequence

import numpy as np
import torch

from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample
from .base import BaseTransform

#: metainfo every packed sample carries when the pipeline produced it (``decoder_fallback``:
#: a video decord could not decode, decoded with PyAV; see ``DecordInit``)
DEFAULT_META_KEYS = (ActionDataSample.filename.name, 'frame_dir', 'frame_inds', 'num_clips',
                     'clip_len', ActionDataSample.decoder_fallback.name)


def channels_first(frames: np.ndarray, clip_len: int) -> np.ndarray:
    """(views * clip_len, H, W, C) -> a new contiguous (views, C, clip_len, H, W).

    OpenCV's channel split writes each colour plane of a view straight into its place, about
    twice as fast as numpy's general strided transpose copy (for a 32-frame 224x224 clip, 0.74
    against 1.8 ms in uint8, 3.3 against 6.5 ms in float32); numpy does what OpenCV does not
    take (other dtypes, more channels)."""
    t, h, w, c = frames.shape
    views = t // clip_len
    if frames.dtype in (np.uint8, np.float32) and 1 < c <= 4 and frames.flags.c_contiguous:
        import cv2
        out = np.empty((views, c, clip_len, h, w), frames.dtype)
        for v in range(views):
            view = frames[v * clip_len:(v + 1) * clip_len].reshape(clip_len * h, w, c)
            planes = [out[v, k].reshape(clip_len * h, w) for k in range(c)]
            if not all(a is b for a, b in zip(cv2.split(view, planes), planes)):
                break  # OpenCV allocated planes of its own: leave it to numpy
        else:
            return out
    grouped = frames.reshape(views, clip_len, h, w, c)
    return np.ascontiguousarray(grouped.transpose(0, 4, 1, 2, 3))


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
            imgs = channels_first(imgs, clip_len)  # (views, C, T, H, W)
        else:
            imgs = channels_first(imgs, 1)[:, :, 0]  # (frames, C, H, W)
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


def _is_packed(results: dict) -> bool:
    return 'inputs' in results and 'data_samples' in results


def _value(step: str, results: dict, key: str):
    if key not in results:
        hint = (' The results are already packed ({inputs, data_samples}): put this step '
                'before Collect / PackActionInputs.') if _is_packed(results) else ''
        raise KeyError(f'{step}: key {key!r} is not in the results (available: '
                       f'{sorted(results)}).{hint}')
    return results[key]


def _from_numpy(array: np.ndarray) -> torch.Tensor:
    """The array as a tensor sharing its memory (a copy only for negative strides, which
    torch cannot represent, e.g. a flipped view)."""
    if any(stride < 0 for stride in array.strides):
        array = np.ascontiguousarray(array)
    return torch.from_numpy(array)


def to_tensor(value) -> torch.Tensor:
    """mmaction2 0.x's conversion: a tensor stays as it is; an array shares its memory; a
    list, tuple or other sequence (not a string) goes through ``torch.tensor``; a number
    becomes a 1-element tensor, shape ``(1,)`` (int64 for ints and bools, float32 for
    floats). numpy scalars, which 0.x refused, convert like Python numbers. Anything else
    (a string, ``None``, a dict) is a ``TypeError``."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return _from_numpy(value)
    if isinstance(value, abc.Sequence) and not isinstance(value, (str, bytes)):
        return torch.tensor(value)
    if isinstance(value, (bool, int, np.integer, np.bool_)):
        return torch.tensor([int(value)], dtype=torch.int64)
    if isinstance(value, (float, np.floating)):
        return torch.tensor([float(value)], dtype=torch.float32)
    raise TypeError(f'cannot convert {type(value).__name__} {value!r} to a tensor: expected '
                    'a tensor, numpy array, list/tuple of numbers, or a number')


@TRANSFORMS.register_module()
class ToTensor(BaseTransform):
    """Convert ``keys`` of the results to tensors; a packed sample passes through unchanged.

    AIM's pipelines end with ``Collect`` then ``ToTensor``; since ``Collect`` already packs
    tensors, ``ToTensor`` has nothing left to do there. Placed before the packing step it
    converts as mmaction2 0.x does (:func:`to_tensor`): arrays without a copy, a number
    ``x`` to ``tensor([x])`` of shape ``(1,)``.

    Reads and writes ``keys``.
    """

    def __init__(self, keys: Sequence[str]):
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        if _is_packed(results):
            return results
        for key in self.keys:
            value = _value('ToTensor', results, key)
            try:
                results[key] = to_tensor(value)
            except TypeError as err:
                raise TypeError(f'ToTensor: results[{key!r}]: {err}') from None
        return results


@TRANSFORMS.register_module()
class ImageToTensor(BaseTransform):
    """mmaction2 0.x's ``ImageToTensor``: each of ``keys`` holds one image (H, W, C) and
    becomes a (C, H, W) tensor sharing its memory.

    Reads and writes ``keys``. A clip (frames, H, W, C) is refused: use
    ``FormatShape`` and ``Collect`` (or ``ToTensor``) for clips.
    """

    def __init__(self, keys: Sequence[str]):
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            value = _value('ImageToTensor', results, key)
            if not isinstance(value, np.ndarray) or value.ndim != 3:
                shape = getattr(value, 'shape', None)
                raise ValueError(
                    f'ImageToTensor: results[{key!r}] must be one image, a numpy array (H, W, '
                    f'C); got {type(value).__name__} of shape {shape}. For clips use '
                    "FormatShape(input_format='NCTHW') then Collect/ToTensor.")
            results[key] = _from_numpy(value.transpose(2, 0, 1))
        return results


@TRANSFORMS.register_module()
class Transpose(BaseTransform):
    """mmaction2 0.x's ``Transpose``: permute the axes of each of ``keys`` to ``order``
    (``np.transpose`` of arrays, ``permute`` of tensors; no copy).

    Reads and writes ``keys``.

    Args:
        keys: the results keys to permute.
        order: the new order of the axes, e.g. ``(0, 3, 1, 2)`` for NHWC -> NCHW.
    """

    def __init__(self, keys: Sequence[str], order: Sequence[int]):
        if isinstance(keys, str):
            raise TypeError(f"Transpose keys must be a list of keys, e.g. ['imgs'], got "
                            f'{keys!r}')
        order = list(order) if isinstance(order, (list, tuple)) else order
        if not isinstance(order, list) or not all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in order) \
                or sorted(int(a) for a in order) != list(range(len(order))):
            raise ValueError(f'Transpose order must list each axis 0..n-1 once, e.g. '
                             f'(0, 3, 1, 2); got {order!r}')
        self.keys = tuple(keys)
        self.order = tuple(int(a) for a in order)

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            value = _value('Transpose', results, key)
            if not isinstance(value, (np.ndarray, torch.Tensor)):
                raise TypeError(f'Transpose: results[{key!r}] is a {type(value).__name__}, '
                                'not an array or tensor')
            if value.ndim != len(self.order):
                raise ValueError(f'Transpose: results[{key!r}] has {value.ndim} axes '
                                 f'(shape {tuple(value.shape)}) but order={self.order} '
                                 f'has {len(self.order)}')
            results[key] = value.permute(self.order) if isinstance(value, torch.Tensor) \
                else value.transpose(self.order)
        return results
