"""Swin Transformer applied to video frame by frame: the 2D baseline of AIM's Swin study.

AIM's baseline (``patch_size=4``) embeds 4x4 patches of every frame, as the image Swin does;
with a tuple patch size (pt, 4, 4) a 3D patch embedding makes one 2D map per pt frames (AIM-Swin
uses (2, 4, 4)). Each map then goes through an image Swin (Liu et al., 2021) on its own:
shifted-window attention inside each map, patch merging between stages, no exchange between
times. The I3D head averages over time.

Layout and parameter names are those of Microsoft's ImageNet Swin checkpoints (``layers.{s}.
blocks.{b}``, ``layers.{s}.downsample``, final ``norm``), so its weights load (the patch
embedding inflated over pt when it is 3D; :mod:`mmaction.checkpoint.swin`).
:class:`SwinTransformer2D_Adapter` (``swin2d_adapter.py``) adds AIM's adapters to this model.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
from einops import rearrange
from mmengine.model import BaseModule
from torch import nn

from mmaction.registry import MODELS
from ..common import Adapter, DropPath
from ..common.blocks import CheckpointOption, Mlp, init_transformer_weights
from ..common.drop_path import linear_drop_path_rates
from ..common.pretrained import load_pretrained
from .swin_common import (
    FramePatchEmbed,
    FrozenStagesMixin,
    PatchEmbed3D,
    PatchMerging,
    SwinStage,
    WindowAttention,
    effective_window,
    shifted_window_attention,
    window_mask,
)


class SwinBlock2D(nn.Module):
    """One Swin block over a batch of 2D feature maps (B', H, W, C).

    ``x = x + drop_path(W-MSA(norm1(x)))``; ``x = x + drop_path(mlp(norm2(x)))``, the window
    attention shifted by ``shift_size`` in odd blocks.

    Args:
        dim, num_heads: width and heads of the stage.
        window_size, shift_size: the square window and its shift (0 or window // 2).
        input_resolution: (H, W) of the stage's maps at the configured input size. Shifted
            blocks store their mask for it as the buffer ``attn_mask`` (Swin checkpoints have
            it); other sizes compute theirs on the fly.
        attn: attention module to use instead of a plain :class:`WindowAttention` (the AIM
            block passes one that can also attend over time).
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 window_size: int = 7,
                 shift_size: int = 0,
                 input_resolution: Tuple[int, int] = (56, 56),
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop: float = 0.0,
                 attn_drop: float = 0.0,
                 drop_path: float = 0.0,
                 attn: Optional[WindowAttention] = None):
        super().__init__()
        if shift_size >= window_size:
            raise ValueError(f'shift_size {shift_size} must be smaller than window_size '
                             f'{window_size}')
        self.window = (window_size, window_size)
        self.shift = (shift_size, shift_size)
        self.input_resolution = tuple(input_resolution)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = attn if attn is not None else WindowAttention(
            dim, self.window, num_heads, qkv_bias, qk_scale, attn_drop, drop)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        # `None` registers nothing: like Swin, blocks that do not shift at this resolution
        # (all even blocks, and odd ones whose map is no larger than a window) have no mask.
        self.register_buffer('attn_mask', self._mask_at(self.input_resolution))

    def _mask_at(self, grid: Tuple[int, int]) -> Optional[torch.Tensor]:
        window, shift = effective_window(grid, self.window, self.shift)
        padded = tuple(-(-g // w) * w for g, w in zip(grid, window))
        # on the default device (models are also built on 'meta'); a copy, because loading
        # a checkpoint writes into buffers and window_mask's are shared
        mask = window_mask(padded, grid, window, shift, device=torch.empty(0).device)
        return None if mask is None else mask.clone()

    def window_attention(self, x: torch.Tensor) -> torch.Tensor:
        """(Shifted-)window attention within each map of ``x`` (B', H, W, C)."""
        mask = self.attn_mask if tuple(x.shape[1:3]) == self.input_resolution else None
        return shifted_window_attention(self.attn, x, self.window, self.shift, mask)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``x``: (B * T, H, W, C), the T maps of a clip contiguous (unused here: frames are
        independent)."""
        x = x + self.drop_path(self.window_attention(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


@MODELS.register_module()
class SwinTransformer2D(CheckpointOption, FrozenStagesMixin, BaseModule):
    """Image Swin over the frames (or temporal tokens) of a clip: AIM's 2D Swin baseline.

    Takes AIM's constructor arguments, so its ``swin2d_base_patch4_window7_*`` configs build
    unchanged.

    Args:
        pretrained: path of Microsoft's ImageNet Swin file (``{'model': state_dict}``, e.g.
            ``swin_base_patch4_window7_224_22k.pth``), loaded by :meth:`init_weights`; or
            ``None``.
        patch_size: an int ``p`` (AIM's 2D baseline: 4) embeds (p, p) patches of every frame
            with a Conv2d, as the image Swin does, so each frame is one 2D map; a tuple
            (pt, ph, pw) embeds (pt, ph, pw) patches with a Conv3d (AIM-Swin: (2, 4, 4), two
            frames per temporal token), the ImageNet weights inflated over pt.
        num_frames: the clip length of the config (AIM's argument). Nothing here is sized by
            it: the number of frames comes from the input.
        input_resolution / img_size: frame side the ``attn_mask`` buffers are stored for
            (224; ``img_size`` is AIM's name). Other sizes that are multiples of the patch
            work (windows pad and mask).
        in_chans: input channels (3).
        embed_dim, depths, num_heads: 128, [2, 2, 18, 2], [4, 8, 16, 32] for Swin-B.
        window_size: square window of the spatial attention (7).
        mlp_ratio, qkv_bias, qk_scale: as in Swin.
        drop_rate, attn_drop_rate: dropout after embeddings/projections and on attention.
        drop_path_rate: stochastic depth of the last block, rising linearly from 0.
        patch_norm: LayerNorm after the patch embedding (Swin checkpoints have it).
        frozen_stages: -1 freezes nothing; 0 the patch embedding; k >= 1 also stages < k
            (eval mode, no gradients), re-applied by ``train()``. AIM freezes through the
            recognizer's ``trainable_params`` instead.
        num_classes: accepted for AIM's signature; the backbone has no classifier (the
            recognizer's head has it), so it is unused, as in AIM.
        ape: absolute position embedding; only ``False`` (AIM's default, and what the Swin
            checkpoints hold) is supported.
        with_cp / use_checkpoint: gradient checkpointing per block (less memory, about a
            third more compute); ``'selective'``: only the frozen MLP's hidden layer is
            recomputed in the backward pass.

    Input (B, 3, T, H, W) float; output (B, 8 * embed_dim, T / pt, H / 32, W / 32).
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 patch_size: Union[int, Sequence[int]] = (2, 4, 4),
                 input_resolution: int = 224,
                 embed_dim: int = 96,
                 depths: Sequence[int] = (2, 2, 6, 2),
                 num_heads: Sequence[int] = (3, 6, 12, 24),
                 window_size: int = 7,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.2,
                 patch_norm: bool = True,
                 frozen_stages: int = -1,
                 with_cp: bool = False,
                 num_frames: Optional[int] = None,
                 img_size: Optional[int] = None,
                 in_chans: int = 3,
                 num_classes: Optional[int] = None,
                 ape: bool = False,
                 use_checkpoint: Optional[bool] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if len(depths) != len(num_heads):
            raise ValueError(f'depths {list(depths)} and num_heads {list(num_heads)} must have '
                             'one entry per stage')
        if ape:
            raise ValueError('SwinTransformer2D(ape=True): an absolute position embedding is '
                             "not supported (AIM's configs and the ImageNet Swin files have "
                             'none); leave ape=False.')
        if img_size is not None:
            if input_resolution not in (224, img_size):
                raise ValueError(f'img_size={img_size} and input_resolution={input_resolution} '
                                 'are two names for the frame side; give one of them.')
            input_resolution = img_size
        frame_patches = isinstance(patch_size, int)
        if frame_patches:
            patch_size = (1, patch_size, patch_size)
        elif len(patch_size) != 3:
            raise ValueError(f'patch_size must be an int p (p x p patches of every frame) or '
                             f'(pt, ph, pw); got {patch_size}')
        if input_resolution % patch_size[1] or input_resolution % patch_size[2]:
            raise ValueError(f'input_resolution {input_resolution} is not a multiple of the '
                             f'spatial patch size {tuple(patch_size[1:])}')
        if isinstance(window_size, (list, tuple)):  # Video Swin style (wt, wh, ww) or (wh, ww)
            if len(set(window_size[-2:])) != 1:
                raise ValueError(f'{type(self).__name__} uses square windows; got '
                                 f'window_size={window_size}')
            window_size = window_size[-1]
        with_cp = with_cp if use_checkpoint is None else use_checkpoint
        self.num_frames = num_frames
        self.pretrained = pretrained
        self.patch_size = tuple(patch_size)
        self.input_resolution = input_resolution
        self.embed_dim = embed_dim
        self.depths = tuple(depths)
        self.num_heads = tuple(num_heads)
        self.window_size = window_size
        self.num_layers = len(depths)
        self.num_features = embed_dim * 2**(self.num_layers - 1)
        self.frozen_stages = frozen_stages

        if frame_patches:  # the image Swin's Conv2d, frame by frame
            self.patch_embed = FramePatchEmbed(patch_size[1], in_chans, embed_dim, patch_norm)
        else:
            self.patch_embed = PatchEmbed3D(self.patch_size, in_chans, embed_dim, patch_norm)
        self.pos_drop = nn.Dropout(drop_rate)
        rates = linear_drop_path_rates(drop_path_rate, sum(depths))
        res = (input_resolution // patch_size[1], input_resolution // patch_size[2])
        self.layers = nn.ModuleList()
        for s, depth in enumerate(depths):
            dim = embed_dim * 2**s
            first = sum(depths[:s])
            blocks = [
                self.build_block(
                    stage=s, index=b, dim=dim, num_heads=num_heads[s], window_size=window_size,
                    shift_size=0 if b % 2 == 0 else window_size // 2, input_resolution=res,
                    mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, qk_scale=qk_scale, drop=drop_rate,
                    attn_drop=attn_drop_rate, drop_path=rates[first + b])
                for b in range(depth)
            ]
            last = s == self.num_layers - 1
            self.layers.append(
                SwinStage(blocks, None if last else PatchMerging(dim), with_cp=with_cp))
            res = (-(-res[0] // 2), -(-res[1] // 2))
        self.norm = nn.LayerNorm(self.num_features)

        init_transformer_weights(self)
        for m in self.modules():  # Swin's init touched the adapters' layers: restore theirs
            if isinstance(m, Adapter):
                m.reset_parameters()
        self._freeze_stages()
        self.with_cp = with_cp

    def build_block(self, stage: int, index: int, **kwargs) -> nn.Module:
        """Block ``index`` of stage ``stage``; subclasses return adapted blocks."""
        return SwinBlock2D(**kwargs)

    # ------------------------------------------------------------------ weights
    def init_weights(self) -> None:
        """Load the ImageNet Swin file if one is configured (patch embedding inflated over
        time, relative-position tables resized to the window, ``head.*`` dropped)."""
        if self.pretrained:
            load_pretrained(self)

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.patch_embed.check_input(x, type(self).__name__)
        b = x.shape[0]
        x = self.patch_embed(x)  # (B, C, T', H', W')
        t = x.shape[2]
        x = self.pos_drop(rearrange(x, 'b c t h w -> (b t) h w c'))
        for layer in self.layers:
            x = layer(x, t)
        x = self.norm(x)
        return rearrange(x, '(b t) h w c -> b c t h w', b=b)
