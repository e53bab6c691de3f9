"""Pieces that several backbones stack: the feed-forward block with timm's parameter names,
and running a stack of blocks with optional gradient checkpointing."""
from typing import Iterable, Union

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from .linear import Linear
from .recompute import recomputed_mlp


class Mlp(nn.Module):
    """``fc1 -> GELU -> dropout -> fc2 -> dropout`` (the feed-forward block of Swin and of
    timm's ViT, whose parameter names it keeps)."""

    def __init__(self, dim: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.fc1 = Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = Linear(hidden, dim)
        self.drop = nn.Dropout(drop)
        self.recompute_mlp = False  # with_cp='selective', set by the backbone

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.recompute_mlp and not (self.training and self.drop.p):
            return recomputed_mlp(x, self.fc1, self.fc2, 'gelu')
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


WITH_CP_VALUES = (False, True, 'selective')


def check_with_cp(value, owner: str, selective: bool = True) -> Union[bool, str]:
    """``with_cp`` as ``False``, ``True`` or ``'selective'`` (``0``/``1`` read as bools);
    anything else is a config error naming the key and the values ``owner`` accepts."""
    allowed = WITH_CP_VALUES if selective else (False, True)
    if isinstance(value, str):
        if value == 'selective' and selective:
            return value
    elif isinstance(value, (bool, int)) and value in (0, 1):
        return bool(value)
    names = ', '.join(repr(v) for v in allowed)
    hint = (" ('selective' recomputes the frozen MLP's hidden layer; True recomputes whole "
            'blocks)') if selective else (f" ('selective' is not implemented for {owner})"
                                          if value == 'selective' else '')
    raise ValueError(f'{owner}: model.backbone.with_cp must be one of {names}; got '
                     f'{value!r}{hint}.')


class CheckpointOption:
    """``with_cp`` of a backbone, checked when set (at build time or later, as the benchmarks
    do): ``True`` checkpoints whole blocks (:func:`run_blocks`); ``'selective'`` sets
    ``recompute_mlp`` on every submodule that has one (:mod:`.recompute`). Submodules that
    keep their own ``with_cp`` (Swin's stages) get the value too."""

    @property
    def with_cp(self):
        return self._with_cp

    @with_cp.setter
    def with_cp(self, value) -> None:
        self._with_cp = check_with_cp(value, type(self).__name__)
        for module in self.modules():
            if hasattr(module, 'recompute_mlp'):
                module.recompute_mlp = self._with_cp == 'selective'
            if module is not self and 'with_cp' in vars(module):
                module.with_cp = self._with_cp


def run_blocks(blocks: Iterable[nn.Module], x: torch.Tensor, *args,
               with_cp: Union[bool, str] = False) -> torch.Tensor:
    """``x = block(x, *args)`` for each block. ``with_cp=True``: while training, each block's
    activations are recomputed in the backward pass instead of stored (less memory, about a
    third more compute); ``'selective'`` is the blocks' own business (see
    :mod:`~mmaction.models.common.recompute`), so they run plainly here."""
    for block in blocks:
        if with_cp is True and torch.is_grad_enabled():
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
