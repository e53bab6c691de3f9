"""``F.interpolate`` whose backward pass is deterministic on every device.

Under ``torch.use_deterministic_algorithms(True)`` (``--deterministic``) CUDA has no
deterministic backward for linear, bilinear, bicubic or trilinear interpolation and raises at
the first training step. These modes are separable: along each resized axis the output is a
fixed (out, in) matrix times the input. Taking that matrix from ``F.interpolate`` itself
(applied to the identity, without gradient) gives the same values up to float rounding, and
the backward becomes a matrix product, which is deterministic. Everywhere else (CPU, no
gradient, deterministic mode off) ``F.interpolate`` runs unchanged.
"""
from typing import Sequence, Union

import torch
import torch.nn.functional as F

_AXIS_MODE = dict(linear='linear', bilinear='linear', trilinear='linear', bicubic='bicubic')


def interpolate(x: torch.Tensor, size: Union[int, Sequence[int]], mode: str,
                align_corners: bool = False) -> torch.Tensor:
    """``F.interpolate(x, size, mode=mode, align_corners=align_corners)`` for ``x`` shaped
    (N, C, *spatial); deterministic backward under ``--deterministic`` on accelerators."""
    if mode not in _AXIS_MODE:
        raise ValueError(f'interpolate: mode must be one of {sorted(_AXIS_MODE)}, got {mode!r}')
    size = tuple(size) if isinstance(size, (tuple, list)) else (size, ) * (x.ndim - 2)
    if torch.are_deterministic_algorithms_enabled() and x.requires_grad and \
            x.device.type != 'cpu':
        return separable_interpolate(x, size, mode, align_corners)
    return F.interpolate(x, size=size, mode=mode, align_corners=align_corners)


def separable_interpolate(x: torch.Tensor, size: Sequence[int], mode: str,
                          align_corners: bool = False) -> torch.Tensor:
    """The same resampling as ``F.interpolate``, one axis at a time, as matrix products."""
    out = x
    for axis, n_out in enumerate(size, start=2):
        weights = axis_weights(x.shape[axis], n_out, _AXIS_MODE[mode], align_corners,
                               x.device, x.dtype)  # (n_out, n_in)
        out = torch.movedim(torch.movedim(out, axis, -1) @ weights.t(), -1, axis)
    return out


def axis_weights(n_in: int, n_out: int, mode: str, align_corners: bool, device,
                 dtype) -> torch.Tensor:
    """(n_out, n_in) matrix of 1-D ``'linear'`` or ``'bicubic'`` resampling."""
    eye = torch.eye(n_in, device=device, dtype=dtype)
    with torch.no_grad():
        if mode == 'linear':
            columns = F.interpolate(eye[:, None, :], size=n_out, mode='linear',
                                    align_corners=align_corners)[:, 0, :]
        else:  # bicubic exists in 2-D only; an axis of length 1 -> 1 is left as it is
            columns = F.interpolate(eye[:, None, :, None], size=(n_out, 1), mode='bicubic',
                                    align_corners=align_corners)[:, 0, :, 0]
    return columns.t()
