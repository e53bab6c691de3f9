"""Stochastic depth (drop a residual branch per sample)."""
import torch
from torch import nn


def drop_path(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Zero the whole branch for a random subset of samples (dim 0), rescaling the rest by
    ``1 / (1 - p)`` so the expectation is unchanged."""
    if p == 0.0 or not training:
        return x
    keep = 1.0 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class DropPath(nn.Module):

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_path(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f'p={self.p}'


def linear_drop_path_rates(max_rate: float, depth: int) -> list:
    """Rates rising linearly from 0 at the first block to ``max_rate`` at the last (plain
    Python, so models can be built on the ``meta`` device)."""
    if depth == 1:
        return [0.0]
    return [max_rate * i / (depth - 1) for i in range(depth)]
