"""Video Swin Transformer (Liu et al., CVPR 2022): the fully fine-tuned 3D baseline that AIM's
Swin study compares against.

Self-attention runs within 3D windows (e.g. 8 temporal tokens x 7 x 7 positions), shifted by
half a window in every other block, with a relative-position bias over 3D offsets. Patch
merging halves only the spatial grid; time keeps its T / pt tokens throughout.

Parameter names are Video Swin's (``patch_embed``, ``layers.{s}.blocks.{b}.attn.qkv`` ...,
``layers.{s}.downsample``, ``norm``), so its checkpoints load. ``pretrained2d=True`` starts
from an ImageNet Swin instead: the 2D patch embedding is inflated over time and each 2D
relative-position table is repeated over the temporal offsets
(:mod:`mmaction.checkpoint.swin`).
"""
from typing import Optional, Sequence

import torch
from einops import rearrange
from mmengine.model import BaseModule
from torch import nn

from mmaction.registry import MODELS
from ..common import DropPath
from ..common.blocks import CheckpointOption, Mlp, init_transformer_weights
from ..common.drop_path import linear_drop_path_rates
from ..common.pretrained import load_pretrained
from .swin_common import (
    FrozenStagesMixin,
    PatchEmbed3D,
    PatchMerging,
    SwinStage,
    WindowAttention,
    shifted_window_attention,
)


class SwinBlock3D(nn.Module):
    """``x = x + drop_path(3D-W-MSA(norm1(x)))``; ``x = x + drop_path(mlp(norm2(x)))`` over a
    (B, D, H, W, C) grid, the windows shifted by ``shift_size`` in odd blocks."""

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 window_size: Sequence[int] = (8, 7, 7),
                 shift_size: Sequence[int] = (0, 0, 0),
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop: float = 0.0,
                 attn_drop: float = 0.0,
                 drop_path: float = 0.0):
        super().__init__()
        self.window = tuple(window_size)
        self.shift = tuple(shift_size)
        if any(s >= w for s, w in zip(self.shift, self.window)):
            raise ValueError(f'shift_size {self.shift} must be smaller than window_size '
                             f'{self.window}')
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, self.window, num_heads, qkv_bias, qk_scale, attn_drop,
                                    drop)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(
            shifted_window_attention(self.attn, self.norm1(x), self.window, self.shift))
        return x + self.drop_path(self.mlp(self.norm2(x)))


@MODELS.register_module()
class SwinTransformer3D(CheckpointOption, FrozenStagesMixin, BaseModule):
    """Video Swin Transformer.

    Args:
        pretrained: ``None`` or a checkpoint path. With ``pretrained2d=True`` it is
            Microsoft's ImageNet Swin file (``{'model': state_dict}``), inflated to 3D; with
            ``pretrained2d=False`` a Video Swin checkpoint (a backbone state dict, or a
            recognizer checkpoint whose ``backbone.*`` keys are used).
        pretrained2d: see ``pretrained``.
        patch_size: (pt, ph, pw); (2, 4, 4) in the Kinetics configs.
        embed_dim, depths, num_heads: Swin-T 96/[2,2,6,2]/[3,6,12,24], Swin-S 96/[2,2,18,2]/
            [3,6,12,24], Swin-B 128/[2,2,18,2]/[4,8,16,32].
        window_size: (wt, wh, ww) 3D window, (8, 7, 7) in the Kinetics configs.
        mlp_ratio, qkv_bias, qk_scale, drop_rate, attn_drop_rate, drop_path_rate,
            patch_norm: as in Swin.
        frozen_stages: -1 freezes nothing; 0 the patch embedding; k >= 1 also stages < k.
        with_cp / use_checkpoint: gradient checkpointing per block (Video Swin's configs
            call it ``use_checkpoint``); ``with_cp='selective'``: only the frozen MLP's
            hidden layer is recomputed in the backward pass.

    Input (B, 3, T, H, W) float; output (B, 8 * embed_dim, T / pt, H / 32, W / 32).
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 pretrained2d: bool = True,
                 patch_size: Sequence[int] = (4, 4, 4),
                 in_chans: int = 3,
                 embed_dim: int = 96,
                 depths: Sequence[int] = (2, 2, 6, 2),
                 num_heads: Sequence[int] = (3, 6, 12, 24),
                 window_size: Sequence[int] = (2, 7, 7),
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.2,
                 patch_norm: bool = False,
                 frozen_stages: int = -1,
                 with_cp: bool = False,
                 use_checkpoint: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if len(depths) != len(num_heads):
            raise ValueError(f'depths {list(depths)} and num_heads {list(num_heads)} must have '
                             'one entry per stage')
        if len(patch_size) != 3 or len(window_size) != 3:
            raise ValueError(f'patch_size and window_size must be 3-tuples (t, h, w); got '
                             f'patch_size={patch_size}, window_size={window_size}')
        self.pretrained = pretrained
        self.pretrained2d = pretrained2d
        self.patch_size = tuple(patch_size)
        self.embed_dim = embed_dim
        self.depths = tuple(depths)
        self.num_heads = tuple(num_heads)
        self.window_size = tuple(window_size)
        self.num_layers = len(depths)
        self.num_features = embed_dim * 2**(self.num_layers - 1)
        self.frozen_stages = frozen_stages

        self.patch_embed = PatchEmbed3D(self.patch_size, in_chans, embed_dim, patch_norm)
        self.pos_drop = nn.Dropout(drop_rate)
        rates = linear_drop_path_rates(drop_path_rate, sum(depths))
        shift = tuple(w // 2 for w in self.window_size)
        self.layers = nn.ModuleList()
        for s, depth in enumerate(depths):
            dim = embed_dim * 2**s
            first = sum(depths[:s])
            blocks = [
                SwinBlock3D(dim, num_heads[s], self.window_size,
                            (0, 0, 0) if b % 2 == 0 else shift, mlp_ratio, qkv_bias, qk_scale,
                            drop_rate, attn_drop_rate, rates[first + b]) for b in range(depth)
            ]
            last = s == self.num_layers - 1
            self.layers.append(SwinStage(blocks, None if last else PatchMerging(dim),
                                           with_cp=with_cp or use_checkpoint))
        self.norm = nn.LayerNorm(self.num_features)
        init_transformer_weights(self)
        self._freeze_stages()
        self.with_cp = with_cp or use_checkpoint

    # ------------------------------------------------------------------ weights
    def init_weights(self) -> None:
        """Load ``pretrained``: inflate an ImageNet Swin (``pretrained2d``) or load a Video
        Swin checkpoint."""
        if self.pretrained:
            load_pretrained(self)

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.patch_embed.check_input(x, type(self).__name__)
        x = self.patch_embed(x)  # (B, C, T', H', W')
        x = self.pos_drop(rearrange(x, 'b c t h w -> b t h w c'))
        for layer in self.layers:
            x = layer(x)
        return rearrange(self.norm(x), 'b t h w c -> b c t h w')
