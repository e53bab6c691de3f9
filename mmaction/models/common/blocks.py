"""Pieces that several backbones stack: the feed-forward block with timm's parameter names,
and running a stack of blocks with optional gradient checkpointing."""
from typing import Iterable

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


class Mlp(nn.Module):
    """``fc1 -> GELU -> dropout -> fc2 -> dropout`` (the feed-forward block of Swin and of
    timm's ViT, whose parameter names it keeps)."""

    def __init__(self, dim: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


def run_blocks(blocks: Iterable[nn.Module], x: torch.Tensor, *args,
               with_cp: bool = False) -> torch.Tensor:
    """``x = block(x, *args)`` for each block. ``with_cp``: while training, each block's
    activations are recomputed in the backward pass instead of stored (less memory, about a
    third more compute)."""
    for block in blocks:
        if with_cp and torch.is_grad_enabled():
            x = checkpoint(block, x, *args, use_reentrant=False)
        else:
            x = block(x, *args)
    return x


def init_transformer_weights(module: nn.Module) -> None:
    """The initialisation of Swin and timm's ViT: truncated-normal (std 0.02) linear weights,
    zero biases, unit LayerNorms. Adapters re-initialise themselves afterwards (``D_fc2`` at
    zero)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
