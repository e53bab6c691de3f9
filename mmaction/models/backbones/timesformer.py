"""The TimeSformer baseline AIM compares against: divided space-time attention (Bertasius et
al., 2021) on CLIP's image transformer.

Each block of CLIP's ViT gains a temporal attention of its own before the spatial one:

1. ``x += T_Adapter(drop_path(t_attn(t_norm(x_t))))``: attention across the T frames of each
   token position, then a linear layer (``T_Adapter``, a d x d Linear);
2. ``x += drop_path(attn(ln_1(x)))``: CLIP's attention over the tokens of each frame;
3. ``x += drop_path(mlp(ln_2(x)))``.

``t_attn`` and ``t_norm`` start as copies of the block's ``attn`` and ``ln_1``
(:func:`mmaction.checkpoint.clip.timesformer_from_clip`). Under AIM's rule ``T_Adapter``,
``temporal_embedding``, ``ln_post`` and the head are trained; the temporal attention stays
at CLIP's spatial weights. Parameter names are those of AIM's ``TimeSformer``.
"""
from collections import OrderedDict
from typing import Optional

import torch
from einops import rearrange
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import nn

from mmaction.registry import MODELS
from ..common import DropPath, LayerNorm, QuickGELU
from ..common.blocks import CheckpointOption, run_blocks
from ..common.drop_path import linear_drop_path_rates
from ..common.embeddings import resize_patch_embedding, resize_temporal_embedding
from ..common.linear import Linear
from ..common.pretrained import load_pretrained
from ..common.recompute import recomputed_mlp
from .vit_clip import MultiheadSelfAttention


class DividedSpaceTimeBlock(nn.Module):
    """One CLIP block preceded by its own temporal attention."""

    def __init__(self, d_model: int, n_head: int, drop_path: float = 0.0):
        super().__init__()
        self.attn = MultiheadSelfAttention(d_model, n_head)
        self.ln_1 = LayerNorm(d_model)
        self.mlp = nn.Sequential(
            OrderedDict([('c_fc', Linear(d_model, d_model * 4)), ('gelu', QuickGELU()),
                         ('c_proj', Linear(d_model * 4, d_model))]))
        self.ln_2 = LayerNorm(d_model)
        self.recompute_mlp = False  # with_cp='selective', set by the backbone
        self.t_attn = MultiheadSelfAttention(d_model, n_head)
        self.t_norm = LayerNorm(d_model)
        self.T_Adapter = nn.Linear(d_model, d_model)
        nn.init.trunc_normal_(self.T_Adapter.weight, std=0.02)  # AIM's init: not zero
        nn.init.zeros_(self.T_Adapter.bias)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        # x: (B*T, N, D), frames of one clip contiguous
        n = x.shape[1]
        xt = rearrange(x, '(b t) n d -> (b n) t d', t=num_frames)
        xt = self.T_Adapter(self.drop_path(self.t_attn(self.t_norm(xt))))
        x = x + rearrange(xt, '(b n) t d -> (b t) n d', n=n)
        x = x + self.drop_path(self.attn(self.ln_1(x)))
        xn = self.ln_2(x)
        if self.recompute_mlp:
            return x + self.drop_path(recomputed_mlp(xn, self.mlp.c_fc, self.mlp.c_proj,
                                                     'quick_gelu'))
        return x + self.drop_path(self.mlp(xn))


class Transformer(nn.Module):
    """The stack of blocks; parameter names read ``transformer.resblocks.{i}``."""

    def __init__(self, width: int, layers: int, heads: int, drop_path_rate: float):
        super().__init__()
        self.resblocks = nn.ModuleList([
            DividedSpaceTimeBlock(width, heads, rate)
            for rate in linear_drop_path_rates(drop_path_rate, layers)])


@MODELS.register_module()
class TimeSformer(CheckpointOption, BaseModule):
    """Divided space-time attention on CLIP's ViT (AIM's constructor arguments).

    Args:
        input_resolution, patch_size, width, layers, heads: CLIP's architecture (ViT-B/16:
            224, 16, 768, 12, 12).
        num_frames: the clip length ``temporal_embedding`` is sized for; other lengths are
            interpolated.
        drop_path_rate: stochastic depth of the last block, rising linearly from 0.
        adapter_scale: accepted for AIM's signature; this model has no joint adapter, so it
            is unused, as in AIM.
        attn_type: ``'tadapter'`` (AIM's default) adds ``temporal_embedding``; any other
            value leaves it out.
        pretrained: ``None``, ``'openaiclip'`` or the path of a CLIP file, as for
            :class:`~mmaction.models.backbones.ViT_CLIP`.
        with_cp: ``True``: gradient checkpointing per block; ``'selective'``: the frozen
            MLP's hidden layer is recomputed in the backward pass (see ViT_CLIP).

    Input (B, 3, T, H, W) float; output (B, width, T, 1, 1).
    """

    def __init__(self,
                 input_resolution: int = 224,
                 num_frames: int = 8,
                 patch_size: int = 16,
                 width: int = 768,
                 layers: int = 12,
                 heads: int = 12,
                 drop_path_rate: float = 0.0,
                 adapter_scale: float = 0.5,
                 attn_type: str = 'tadapter',
                 pretrained: Optional[str] = None,
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if input_resolution % patch_size:
            raise ValueError(f'input_resolution {input_resolution} is not a multiple of '
                             f'patch_size {patch_size}')
        self.input_resolution, self.num_frames, self.patch_size = (input_resolution,
                                                                   num_frames, patch_size)
        self.width, self.layers, self.heads = width, layers, heads
        self.pretrained = pretrained
        scale = width**-0.5
        grid = input_resolution // patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.temporal_embedding = (nn.Parameter(torch.zeros(1, num_frames, width))
                                   if attn_type == 'tadapter' else None)
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, heads, drop_path_rate)
        self.ln_post = LayerNorm(width)
        self._reported_lengths = set()
        self.with_cp = with_cp

    def init_weights(self) -> None:
        """Load CLIP's image tower; ``t_attn``/``t_norm`` start as copies of each block's
        ``attn``/``ln_1``."""
        if self.pretrained:
            load_pretrained(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 5 or x.shape[1] != 3:
            raise ValueError(f'TimeSformer expects clips shaped (batch, 3, frames, height, '
                             f'width); got a tensor of shape {tuple(x.shape)}.')
        b, _, t = x.shape[:3]
        x = self.conv1(rearrange(x, 'b c t h w -> (b t) c h w'))  # (B*T, D, H/p, W/p)
        gh, gw = x.shape[-2:]
        x = rearrange(x, 'bt d h w -> bt (h w) d')
        x = torch.cat([self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1), x], dim=1)
        x = x + resize_patch_embedding(self.positional_embedding, gh, gw).to(x.dtype)
        if self.temporal_embedding is not None:
            if t != self.num_frames and t not in self._reported_lengths:
                self._reported_lengths.add(t)
                MMLogger.get_current_instance().info(
                    f'TimeSformer: clips have {t} frames, temporal_embedding was sized for '
                    f'{self.num_frames}; interpolating it linearly to {t}.')
            te = resize_temporal_embedding(self.temporal_embedding, t).to(x.dtype)
            x = (x.view(b, t, *x.shape[1:]) + te.unsqueeze(2)).flatten(0, 1)
        x = self.ln_pre(x)  # (B*T, N, D)
        x = run_blocks(self.transformer.resblocks, x, t, with_cp=self.with_cp)
        x = self.ln_post(x[:, 0])  # class token of each frame
        return rearrange(x, '(b t) d -> b d t 1 1', b=b)
