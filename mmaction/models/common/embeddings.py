"""Position embeddings sized for one input, used at another (resampled with
:func:`~mmaction.models.common.resize.interpolate`, whose backward is deterministic under
``--deterministic``)."""
import torch
from einops import rearrange

from .resize import interpolate


def resize_patch_embedding(pos: torch.Tensor, gh: int, gw: int) -> torch.Tensor:
    """``pos`` (1 + g*g, D): a class-token row then a square g x g grid of patch rows, as a
    ViT stores it; returns (1 + gh*gw, D), the grid resized bicubically when it differs."""
    grid = int(round((pos.shape[0] - 1)**0.5))
    if (gh, gw) == (grid, grid):
        return pos
    patch = rearrange(pos[1:], '(h w) d -> 1 d h w', h=grid)
    patch = interpolate(patch, (gh, gw), mode='bicubic')
    return torch.cat([pos[:1], rearrange(patch, '1 d h w -> (h w) d')])


def resize_temporal_embedding(emb: torch.Tensor, t: int) -> torch.Tensor:
    """``emb`` (1, T0, D) -> (1, t, D), linearly interpolated over time when t != T0."""
    if emb.shape[1] == t:
        return emb
    return interpolate(emb.transpose(1, 2), t, mode='linear').transpose(1, 2)
