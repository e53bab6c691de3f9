"""Moves a batch of uint8 clips to the device and normalises it there."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmaction.registry import MODELS


@MODELS.register_module()
class ActionDataPreprocessor(BaseDataPreprocessor):
    """Stack, move, cast and normalise clips on the model's device.

    The data loader ships uint8 clips (4x fewer bytes than float32 through worker queues,
    pinned memory and the host-to-device copy); the float conversion and
    ``(x - mean) / std`` happen here, once, on the device.

    Args:
        mean, std: per-channel values on the [0, 255] scale (AIM's ``img_norm_cfg``).
            ``None`` leaves values unnormalised.
        to_rgb: reverse the channel order (frames are decoded RGB; set for BGR models).
        format_shape: ``'NCTHW'`` (inputs (N, views, C, T, H, W)) or ``'NCHW'``
            (inputs (N, views, C, H, W)).
        non_blocking: copy batches to the device asynchronously.

    Reads ``data['inputs']`` (a list of per-video tensors or one stacked tensor) and
    ``data['data_samples']``; returns the same keys with ``inputs`` a float tensor on device.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 to_rgb: bool = False,
                 format_shape: str = 'NCTHW',
                 non_blocking: bool = True):
        # non-blocking copies from the loader's pinned memory overlap the transfer with work
        # already queued on the device (from unpinned memory they are plain copies)
        super().__init__(non_blocking=non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('data_preprocessor needs both mean and std, or neither')
        if format_shape not in ('NCTHW', 'NCHW'):
            raise ValueError(f"format_shape must be 'NCTHW' or 'NCHW', got {format_shape!r}")
        self.format_shape = format_shape
        self.to_rgb = to_rgb
        # channel axis is 2 of (N, views, C, ...): broadcast over the remaining axes.
        tail = (1, 1, 1) if format_shape == 'NCTHW' else (1, 1)
        self.normalize = mean is not None
        if self.normalize:
            for name, values in (('mean', mean), ('std', std)):
                self.register_buffer(
                    name, torch.tensor(values, dtype=torch.float32).view(1, 1, -1, *tail),
                    persistent=False)

    def _stack(self, inputs) -> torch.Tensor:
        if isinstance(inputs, torch.Tensor):
            return inputs
        shapes = {tuple(x.shape) for x in inputs}
        if len(shapes) > 1:
            raise ValueError(
                f'clips of one batch must share a shape to be stacked; got {sorted(shapes)}. '
                'Check that the pipeline crops/resizes every clip to the same size and that '
                'SampleFrames gives every video the same clip_len and num_clips.')
        return torch.stack(list(inputs))

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = self._stack(data['inputs'])
        expected = 6 if self.format_shape == 'NCTHW' else 5
        if inputs.ndim == expected - 1:  # a single view per video without the views axis
            inputs = inputs.unsqueeze(1)
        if inputs.ndim != expected:
            raise ValueError(f'{self.format_shape} batches must have {expected} dims '
                             f'(N, views, C, ...); got shape {tuple(inputs.shape)}')
        inputs = inputs.float()
        if self.to_rgb:
            inputs = inputs.flip(2)
        if self.normalize:
            inputs = (inputs - self.mean) / self.std
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
