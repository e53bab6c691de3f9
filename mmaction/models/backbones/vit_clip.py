"""AIM's ViT backbone: a frozen CLIP image transformer with spatial, temporal and joint adapters.

Each block of CLIP's visual transformer is run three ways (Yang et al., ICLR 2023, Fig. 2):

1. temporal adaptation: the block's own (frozen) attention across the T frames of each token
   position, followed by ``T_Adapter``; added to the residual stream;
2. spatial adaptation: the usual attention over the tokens of each frame, followed by
   ``S_Adapter``;
3. joint adaptation: ``MLP_Adapter`` beside the frozen MLP, scaled by ``adapter_scale``.

Parameter names follow OpenAI's visual tower and the released AIM checkpoints, so both load
without renaming. Pretrained weights are read by :mod:`mmaction.checkpoint.clip`, not here.
"""
from collections import OrderedDict
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from einops import rearrange
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import nn

from mmaction.registry import MODELS
from ..common import Adapter, DropPath, LayerNorm, QuickGELU
from ..common.blocks import CheckpointOption, run_blocks
from ..common.drop_path import linear_drop_path_rates
from ..common.embeddings import resize_patch_embedding, resize_temporal_embedding
from ..common.linear import Linear, linear
from ..common.pretrained import load_pretrained
from ..common.recompute import recomputed_mlp

ADAPTATIONS = ('temporal', 'spatial', 'joint')


class MultiheadSelfAttention(nn.Module):
    """Self-attention with ``nn.MultiheadAttention``'s parameter layout (``in_proj_weight``
    holds q, k, v stacked; ``out_proj``), computed batch-first.

    ``impl='sdpa'`` calls ``F.scaled_dot_product_attention`` (flash / memory-efficient kernels
    on GPU, a fused kernel on CPU). ``impl='math'`` materialises the (L, L) attention matrix
    with an explicit softmax, as ``nn.MultiheadAttention`` did in torch 1.10 (AIM's version);
    it is the reference for tests and the baseline in ``tools/analysis/benchmark.py``.
    """

    def __init__(self, width: int, heads: int, impl: str = 'sdpa'):
        super().__init__()
        if width % heads:
            raise ValueError(f'width {width} is not divisible by heads {heads}')
        if impl not in ('sdpa', 'math'):
            raise ValueError(f"attention impl must be 'sdpa' or 'math', got {impl!r}")
        self.heads = heads
        self.impl = impl
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = Linear(width, width)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, L, C) -> q, k, v: (B, heads, L, C / heads)
        qkv = linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = rearrange(qkv, 'b l (three h d) -> three b h l d', three=3, h=self.heads)
        if self.impl == 'sdpa':
            out = F.scaled_dot_product_attention(q, k, v)
        else:
            attn = (q * q.shape[-1]**-0.5) @ k.transpose(-2, -1)  # (B, h, L, L)
            out = attn.softmax(dim=-1) @ v
        return self.out_proj(rearrange(out, 'b h l d -> b l (h d)'))


class ResidualAttentionBlock(nn.Module):
    """One CLIP block with AIM's three adaptations.

    Args:
        d_model: token width (768 for ViT-B, 1024 for ViT-L).
        n_head: attention heads.
        drop_path: stochastic-depth rate of the temporal and joint branches.
        adapter_scale: scale ``s`` of the joint adapter's branch.
        num_tadapter: 2 adds ``T_Adapter_in`` before the temporal attention (SSv2 configs).
        adaptation: which of ``('temporal', 'spatial', 'joint')`` are present; all three is
            AIM, none is the frozen space-only baseline of the paper's ablation.
        attn_impl: ``'sdpa'`` or ``'math'`` (see :class:`MultiheadSelfAttention`).
    """

    def __init__(self,
                 d_model: int,
                 n_head: int,
                 drop_path: float = 0.0,
                 adapter_scale: float = 0.5,
                 num_tadapter: int = 1,
                 adaptation: Sequence[str] = ADAPTATIONS,
                 attn_impl: str = 'sdpa'):
        super().__init__()
        self.attn = MultiheadSelfAttention(d_model, n_head, attn_impl)
        self.ln_1 = LayerNorm(d_model)
        self.mlp = nn.Sequential(
            OrderedDict([('c_fc', Linear(d_model, d_model * 4)), ('gelu', QuickGELU()),
                         ('c_proj', Linear(d_model * 4, d_model))]))
        self.ln_2 = LayerNorm(d_model)
        self.recompute_mlp = False  # with_cp='selective', set by the backbone
        self.temporal = 'temporal' in adaptation
        if self.temporal:
            if num_tadapter == 2:
                self.T_Adapter_in = Adapter(d_model, skip_connect=True)
            self.T_Adapter = Adapter(d_model, skip_connect=False)
        self.S_Adapter = Adapter(d_model, skip_connect=True) if 'spatial' in adaptation else None
        self.MLP_Adapter = (Adapter(d_model, skip_connect=False)
                            if 'joint' in adaptation else None)
        self.adapter_scale = adapter_scale
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        # x: (B*T, N, D), frames of one clip contiguous.
        if self.temporal:
            n = x.shape[1]
            xt = rearrange(x, '(b t) n d -> (b n) t d', t=num_frames)
            xt = self.ln_1(xt)
            if hasattr(self, 'T_Adapter_in'):
                xt = self.T_Adapter_in(xt)
            xt = self.T_Adapter(self.attn(xt))  # attention across the T frames
            x = x + self.drop_path(rearrange(xt, '(b n) t d -> (b t) n d', n=n))

        xs = self.attn(self.ln_1(x))  # attention across the N tokens of a frame
        x = x + (self.S_Adapter(xs) if self.S_Adapter is not None else xs)

        xn = self.ln_2(x)
        if self.recompute_mlp:
            x = x + recomputed_mlp(xn, self.mlp.c_fc, self.mlp.c_proj, 'quick_gelu')
        else:
            x = x + self.mlp(xn)
        if self.MLP_Adapter is not None:
            x = x + self.drop_path(self.adapter_scale * self.MLP_Adapter(xn))
        return x


class Transformer(nn.Module):
    """The stack of blocks; exists so parameter names read ``transformer.resblocks.{i}``."""

    def __init__(self, width: int, layers: int, heads: int, drop_path_rate: float, **block_kw):
        super().__init__()
        rates = linear_drop_path_rates(drop_path_rate, layers)
        self.resblocks = nn.ModuleList(
            [ResidualAttentionBlock(width, heads, drop_path=r, **block_kw) for r in rates])


@MODELS.register_module()
class ViT_CLIP(CheckpointOption, BaseModule):
    """CLIP's visual transformer adapted to video by AIM.

    Args:
        input_resolution: the side the positional embedding is sized for (224). Other sides
            that are multiples of ``patch_size`` work; the embedding is then interpolated.
        num_frames: the clip length ``temporal_embedding`` is sized for. Clips of another
            length T work; the embedding is linearly interpolated to T.
        patch_size: 16 for ViT-B/16, 14 for ViT-L/14.
        width, layers, heads: 768/12/12 for ViT-B, 1024/24/16 for ViT-L.
        drop_path_rate: stochastic depth of the last block, rising linearly from 0.
        num_tadapter: 1, or 2 for an extra ``T_Adapter_in`` (AIM's SSv2 configs).
        adapter_scale: scale of the joint adapter's branch (AIM: 0.5).
        pretrained: ``None``, ``'openaiclip'`` (OpenAI's file for this architecture, found in
            ``$AIM_CLIP_DIR`` or ``~/.cache/clip``) or a path to a CLIP checkpoint.
        adaptation: subset of ``('temporal', 'spatial', 'joint')`` (the paper's ablation).
            ``temporal_embedding`` belongs to the temporal adaptation.
        attn_impl: ``'sdpa'`` (default) or ``'math'``.
        with_cp: ``True``: gradient checkpointing per block: activations are recomputed in
            the backward pass instead of stored (less memory, about a third more compute).
            ``'selective'``: only the frozen MLP's hidden layer (``c_fc`` and its
            activation) is recomputed, from the LayerNorm output the joint adapter keeps
            anyway: one matrix product more per block. ``False``: nothing is recomputed.

    Input (B, 3, T, H, W) float; output (B, width, T, 1, 1): ``ln_post`` of each frame's class
    token, for :class:`~mmaction.models.heads.I3DHead`.
    """

    def __init__(self,
                 input_resolution: int = 224,
                 num_frames: int = 8,
                 patch_size: int = 16,
                 width: int = 768,
                 layers: int = 12,
                 heads: int = 12,
                 drop_path_rate: float = 0.0,
                 num_tadapter: int = 1,
                 adapter_scale: float = 0.5,
                 pretrained: Optional[str] = None,
                 adaptation: Sequence[str] = ADAPTATIONS,
                 attn_impl: str = 'sdpa',
                 with_cp=False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        unknown = set(adaptation) - set(ADAPTATIONS)
        if unknown:
            raise ValueError(f'adaptation must be a subset of {ADAPTATIONS}, got '
                             f'{list(adaptation)}')
        if num_tadapter not in (1, 2):
            raise ValueError(f'num_tadapter must be 1 or 2, got {num_tadapter}')
        if input_resolution % patch_size:
            raise ValueError(f'input_resolution {input_resolution} is not a multiple of '
                             f'patch_size {patch_size}')
        self.input_resolution = input_resolution
        self.num_frames = num_frames
        self.patch_size = patch_size
        self.width = width
        self.layers = layers
        self.heads = heads
        self.pretrained = pretrained
        self.adaptation = tuple(adaptation)

        scale = width**-0.5
        grid = input_resolution // patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        if 'temporal' in self.adaptation:
            self.temporal_embedding = nn.Parameter(torch.zeros(1, num_frames, width))
        else:
            self.temporal_embedding = None
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(
            width, layers, heads, drop_path_rate,
            adapter_scale=adapter_scale, num_tadapter=num_tadapter,
            adaptation=self.adaptation, attn_impl=attn_impl)
        self.ln_post = LayerNorm(width)
        self._reported_lengths = set()
        self.with_cp = with_cp

    # ------------------------------------------------------------------ weights
    def set_attention_impl(self, impl: str) -> None:
        """Every block's attention as ``'sdpa'`` or ``'math'`` (benchmarks compare both on
        one model)."""
        if impl not in ('sdpa', 'math'):
            raise ValueError(f"attention impl must be 'sdpa' or 'math', got {impl!r}")
        for block in self.transformer.resblocks:
            block.attn.impl = impl

    def init_weights(self) -> None:
        """Load the pretrained image model if one is configured.

        Adapters initialise themselves (``D_fc2`` at zero) and ``temporal_embedding`` starts
        at zero, so after loading the model computes the image model frame by frame.
        """
        if self.pretrained:
            load_pretrained(self)

    # ------------------------------------------------------------------ forward
    def _check_input(self, x: torch.Tensor) -> None:
        if x.ndim != 5 or x.shape[1] != 3:
            raise ValueError(
                f'ViT_CLIP expects clips shaped (batch, 3, frames, height, width); got a '
                f'tensor of shape {tuple(x.shape)}. Pipelines should end with '
                f"FormatShape(input_format='NCTHW').")
        h, w = x.shape[-2:]
        if h % self.patch_size or w % self.patch_size:
            raise ValueError(
                f'ViT_CLIP with patch_size={self.patch_size} needs a frame size that is a '
                f'multiple of {self.patch_size}; got {h}x{w}. Crop or resize to e.g. '
                f'{self.input_resolution}x{self.input_resolution}.')

    def _positional_embedding(self, gh: int, gw: int) -> torch.Tensor:
        return resize_patch_embedding(self.positional_embedding, gh, gw)

    def _temporal_embedding(self, t: int) -> torch.Tensor:
        emb = self.temporal_embedding  # (1, num_frames, D)
        if emb.shape[1] == t:
            return emb
        if t not in self._reported_lengths:
            self._reported_lengths.add(t)
            MMLogger.get_current_instance().info(
                f'ViT_CLIP: clips have {t} frames, temporal_embedding was sized for '
                f'{emb.shape[1]}; interpolating it linearly to {t}.')
        return resize_temporal_embedding(emb, t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        b, _, t = x.shape[:3]
        x = rearrange(x, 'b c t h w -> (b t) c h w')
        x = self.conv1(x)  # (B*T, D, H/p, W/p)
        gh, gw = x.shape[-2:]
        x = rearrange(x, 'bt d h w -> bt (h w) d')
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)  # (B*T, N, D), N = 1 + H/p * W/p
        x = x + self._positional_embedding(gh, gw).to(x.dtype)
        if self.temporal_embedding is not None:
            te = self._temporal_embedding(t).to(x.dtype)  # (1, T, D), same for every token
            x = (x.view(b, t, *x.shape[1:]) + te.unsqueeze(2)).flatten(0, 1)
        x = self.ln_pre(x)

        x = run_blocks(self.transformer.resblocks, x, t, with_cp=self.with_cp)

        x = self.ln_post(x[:, 0])  # class token of each frame: (B*T, D)
        return rearrange(x, '(b t) d -> b d t 1 1', b=b)
