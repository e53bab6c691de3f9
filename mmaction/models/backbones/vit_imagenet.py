"""AIM on an ImageNet-21K ViT-B/16 (``ViT_ImageNet``): the paper's study of pre-training
other than CLIP.

The same three adaptations as :class:`~mmaction.models.backbones.ViT_CLIP`, in the layout of
the ImageNet ViT (Dosovitskiy et al., 2021) as timm stores it: ``patch_embed.proj`` (a Conv2d
with bias), ``cls_token``, ``pos_embed``, ``blocks.{i}.{norm1, attn.qkv, attn.proj, norm2,
mlp.fc1, mlp.fc2}``, LayerNorms with eps 1e-6, GELU in the MLP, no norm before the blocks.
The final norm is called ``ln_post`` (the file's ``norm``) so that AIM's rule trains it.
Each block:

1. temporal adaptation: ``x += drop_path(T_Adapter(attn(norm1(x_t))))``, attention across
   the T frames of each token position (``T_Adapter_in`` after ``norm1`` when
   ``num_tadapter == 2``);
2. spatial adaptation: ``x += S_Adapter(attn(norm1(x)))`` over the tokens of each frame;
3. joint adaptation: ``x += mlp(norm2(x)) + drop_path(adapter_scale * MLP_Adapter(norm2(x)))``.

Pretrained weights are read by :mod:`mmaction.checkpoint.vit_imagenet`.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from einops import rearrange
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import nn

from mmaction.registry import MODELS
from ..common import Adapter, DropPath
from ..common.blocks import CheckpointOption, Mlp, init_transformer_weights, run_blocks
from ..common.drop_path import linear_drop_path_rates
from ..common.embeddings import resize_patch_embedding, resize_temporal_embedding
from ..common.linear import Linear
from ..common.pretrained import load_pretrained


class Attention(nn.Module):
    """timm's ViT attention (one ``qkv`` Linear, ``proj``) through SDPA."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True,
                 qk_scale: Optional[float] = None, attn_drop: float = 0.0,
                 proj_drop: float = 0.0):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'embed_dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.scale = qk_scale or (dim // num_heads)**-0.5
        self.attn_drop = attn_drop
        self.qkv = Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, L, D) -> q, k, v: (B, heads, L, D / heads)
        q, k, v = rearrange(self.qkv(x), 'b l (three h d) -> three b h l d', three=3,
                            h=self.num_heads)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0, scale=self.scale)
        return self.proj_drop(self.proj(rearrange(out, 'b h l d -> b l (h d)')))


class Block(nn.Module):
    """One ImageNet ViT block with AIM's temporal, spatial and joint adapters."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0,
                 adapter_scale: float = 0.5, num_tadapter: int = 1, qkv_bias: bool = True,
                 qk_scale: Optional[float] = None, drop: float = 0.0, attn_drop: float = 0.0,
                 drop_path: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, qkv_bias, qk_scale, attn_drop, drop)
        if num_tadapter == 2:
            self.T_Adapter_in = Adapter(dim, skip_connect=True)
        self.T_Adapter = Adapter(dim, skip_connect=False)
        self.S_Adapter = Adapter(dim, skip_connect=True)
        self.MLP_Adapter = Adapter(dim, skip_connect=False)
        self.adapter_scale = adapter_scale
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        # x: (B*T, N, D), frames of one clip contiguous
        n = x.shape[1]
        xt = self.norm1(rearrange(x, '(b t) n d -> (b n) t d', t=num_frames))
        if hasattr(self, 'T_Adapter_in'):
            xt = self.T_Adapter_in(xt)
        xt = self.T_Adapter(self.attn(xt))  # attention across the T frames
        x = x + self.drop_path(rearrange(xt, '(b n) t d -> (b t) n d', n=n))
        x = x + self.S_Adapter(self.attn(self.norm1(x)))  # across the N tokens of a frame
        xn = self.norm2(x)
        return x + self.mlp(xn) + self.drop_path(self.adapter_scale * self.MLP_Adapter(xn))


class PatchEmbed(nn.Module):
    """(p, p) patches of an image, embedded by a strided Conv2d (with bias)."""

    def __init__(self, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 768,
                 bias: bool = True):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size,
                              bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


@MODELS.register_module()
class ViT_ImageNet(CheckpointOption, BaseModule):
    """An ImageNet ViT adapted to video by AIM (AIM's constructor arguments).

    Args:
        img_size: the side ``pos_embed`` is sized for (224); other multiples of
            ``patch_size`` work (the embedding is interpolated).
        num_frames: the clip length ``temporal_embedding`` is sized for; other lengths are
            interpolated.
        patch_size, in_chans, embed_dim, depth, num_heads, mlp_ratio: ViT-B/16: 16, 3, 768,
            12, 12, 4.
        adapter_scale: scale of the joint adapter's branch (0.5; AIM's SSv2 config: 1).
        num_tadapter: 1, or 2 for an extra ``T_Adapter_in`` (AIM's SSv2 config).
        patch_embedding_bias, qkv_bias, qk_scale: as the ImageNet ViT (bias on both).
        drop_rate, attn_drop_rate: dropout in the MLP and after / inside the attention.
        drop_path_rate: stochastic depth of the last block, rising linearly from 0.
        pretrained: ``None``, a path to timm's ``.pth`` or Google's ``.npz`` ViT-B/16 file,
            or ``'openaiclip'``, which AIM's README passes to every config and which AIM's
            code answers by reading its ImageNet file: here too
            (:data:`mmaction.checkpoint.vit_imagenet.AIM_VIT_IMAGENET_FILE`).
        with_cp: ``True``: gradient checkpointing per block; ``'selective'``: the frozen
            MLP's hidden layer is recomputed in the backward pass (see ViT_CLIP).

    Input (B, 3, T, H, W) float; output (B, embed_dim, T, 1, 1): ``ln_post`` of each frame's
    class token.
    """

    def __init__(self,
                 img_size: int = 224,
                 num_frames: int = 8,
                 patch_size: int = 16,
                 in_chans: int = 3,
                 embed_dim: int = 768,
                 depth: int = 12,
                 adapter_scale: float = 0.5,
                 num_tadapter: int = 1,
                 num_heads: int = 12,
                 mlp_ratio: float = 4.0,
                 patch_embedding_bias: bool = True,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.1,
                 pretrained: Optional[str] = None,
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_tadapter not in (1, 2):
            raise ValueError(f'num_tadapter must be 1 or 2, got {num_tadapter}')
        if img_size % patch_size:
            raise ValueError(f'img_size {img_size} is not a multiple of patch_size {patch_size}')
        self.img_size, self.patch_size, self.num_frames = img_size, patch_size, num_frames
        self.embed_dim, self.depth = embed_dim, depth
        self.pretrained = pretrained
        grid = img_size // patch_size
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim, patch_embedding_bias)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, embed_dim))
        self.temporal_embedding = nn.Parameter(torch.zeros(1, num_frames, embed_dim))
        self.blocks = nn.ModuleList([
            Block(embed_dim, num_heads, mlp_ratio, adapter_scale, num_tadapter, qkv_bias,
                  qk_scale, drop_rate, attn_drop_rate, rate)
            for rate in linear_drop_path_rates(drop_path_rate, depth)])
        self.ln_post = nn.LayerNorm(embed_dim, eps=1e-6)
        self._init_random()
        self._reported_lengths = set()
        self.with_cp = with_cp

    def _init_random(self) -> None:
        """The ImageNet ViT's initialisation; adapters then restart at their own (``D_fc2``
        zero: the adapted model computes the image model until trained)."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        init_transformer_weights(self)
        for m in self.modules():
            if isinstance(m, Adapter):
                m.reset_parameters()

    def init_weights(self) -> None:
        """Load the ImageNet ViT if one is configured."""
        if self.pretrained:
            load_pretrained(self)

    def _check_input(self, x: torch.Tensor) -> None:
        if x.ndim != 5 or x.shape[1] != self.patch_embed.proj.in_channels:
            raise ValueError(
                f'ViT_ImageNet expects clips shaped (batch, 3, frames, height, width); got a '
                f'tensor of shape {tuple(x.shape)}. Pipelines should end with '
                f"FormatShape(input_format='NCTHW').")
        if x.shape[-1] % self.patch_size or x.shape[-2] % self.patch_size:
            raise ValueError(
                f'ViT_ImageNet with patch_size={self.patch_size} needs a frame size that is a '
                f'multiple of {self.patch_size}; got {x.shape[-2]}x{x.shape[-1]}.')

    def _temporal_embedding(self, t: int) -> torch.Tensor:
        if t != self.temporal_embedding.shape[1] and t not in self._reported_lengths:
            self._reported_lengths.add(t)
            MMLogger.get_current_instance().info(
                f'ViT_ImageNet: clips have {t} frames, temporal_embedding was sized for '
                f'{self.temporal_embedding.shape[1]}; interpolating it linearly to {t}.')
        return resize_temporal_embedding(self.temporal_embedding, t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        b, _, t = x.shape[:3]
        x = self.patch_embed(rearrange(x, 'b c t h w -> (b t) c h w'))  # (B*T, D, H/p, W/p)
        gh, gw = x.shape[-2:]
        x = rearrange(x, 'bt d h w -> bt (h w) d')
        x = torch.cat([self.cls_token.to(x.dtype).expand(x.shape[0], -1, -1), x], dim=1)
        x = x + resize_patch_embedding(self.pos_embed[0], gh, gw).to(x.dtype)  # (B*T, N, D)
        te = self._temporal_embedding(t).to(x.dtype)  # (1, T, D), same for every token
        x = (x.view(b, t, *x.shape[1:]) + te.unsqueeze(2)).flatten(0, 1)
        x = run_blocks(self.blocks, x, t, with_cp=self.with_cp)
        x = self.ln_post(x[:, 0])  # class token of each frame: (B*T, D)
        return rearrange(x, '(b t) d -> b d t 1 1', b=b)
