"""Pieces shared by the Swin backbones (2D, 2D with AIM adapters, Video Swin 3D).

Swin (Liu et al., 2021) attends within non-overlapping windows and alternates plain windows
with windows shifted by half a window, so information crosses window borders every other
block. A learned bias indexed by the relative position of two tokens inside a window is added
to the attention logits. Video Swin (Liu et al., 2022) makes the windows 3D.

Everything here works on channels-last grids: a tensor ``(B, *grid, C)`` whose ``grid`` is
``(H, W)`` for the 2D models and ``(D, H, W)`` for the 3D one. Window geometry is computed at
run time from the grid, so any input size that is a multiple of the patch size works:
windows larger than the grid shrink to it (and stop shifting), grids that are not a multiple
of the window are padded, and padded tokens are masked out of every real token's attention.

Parameter names (``proj``, ``norm``, ``reduction``, ``qkv``, ``relative_position_bias_table``,
``fc1``, ``fc2`` ...) are those of the Swin and Video Swin checkpoints.
"""
import math
from functools import lru_cache
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from ..common.blocks import run_blocks
from ..common.linear import Linear

#: Added to the logits of pairs that must not attend to each other. Swin's value: finite, so
#: a row that is masked everywhere (a padded query) stays a uniform softmax instead of NaN,
#: and large enough that exp(-100) vanishes next to any unmasked logit.
MASK_VALUE = -100.0

_PARTITION = {
    2: ('b (h wh) (w ww) c -> (b h w) (wh ww) c', ('wh', 'ww'), ('h', 'w')),
    3: ('b (d wd) (h wh) (w ww) c -> (b d h w) (wd wh ww) c', ('wd', 'wh', 'ww'),
        ('d', 'h', 'w')),
}


def window_partition(x: torch.Tensor, window: Sequence[int]) -> torch.Tensor:
    """(B, *grid, C) -> (B * num_windows, prod(window), C), windows in row-major order of
    their position in the grid, tokens in row-major order inside a window."""
    pattern, wnames, _ = _PARTITION[len(window)]
    return rearrange(x, pattern, **dict(zip(wnames, window)))


def effective_window(grid: Sequence[int], window: Sequence[int],
                     shift: Sequence[int]) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """Swin's rule: along a dimension the grid does not exceed, the window covers the whole
    grid and does not shift."""
    win, sft = [], []
    for g, w, s in zip(grid, window, shift):
        if g <= w:
            win.append(g)
            sft.append(0)
        else:
            win.append(w)
            sft.append(s)
    return tuple(win), tuple(sft)


def relative_position_index(window: Sequence[int],
                            table_window: Optional[Sequence[int]] = None) -> torch.Tensor:
    """(N, N) index into a bias table of ``prod(2 * table_window - 1)`` rows for the
    ``N = prod(window)`` tokens of a window.

    Row ``i``, column ``j`` holds the table row of the offset ``pos_i - pos_j``; offsets are
    laid out row-major with each component shifted to be non-negative (Swin's layout).
    ``table_window`` (default ``window``) is the window the table was sized for; a smaller
    ``window`` (a grid smaller than the window) uses the subset of offsets it can have.
    """
    table_window = tuple(table_window or window)
    coords = torch.stack(torch.meshgrid(*[torch.arange(w) for w in window], indexing='ij'))
    coords = coords.flatten(1)  # (dims, N)
    rel = coords[:, :, None] - coords[:, None, :]  # (dims, N, N)
    index = torch.zeros(rel.shape[1:], dtype=torch.long)
    for dim, tw in enumerate(table_window):
        index = index * (2 * tw - 1) + rel[dim] + (tw - 1)
    return index


@lru_cache(maxsize=32)
def _window_mask(padded: Tuple[int, ...], real: Tuple[int, ...], window: Tuple[int, ...],
                 shift: Tuple[int, ...], device: torch.device) -> Optional[torch.Tensor]:
    if padded == real and not any(shift):
        return None
    # Label every token of the (padded, already rolled by -shift) grid with the region it
    # came from; two tokens may attend to each other only if their labels agree. Along each
    # dimension a shifted grid has three regions (the cyclic roll brings the last `shift`
    # rows next to the first ones), an unshifted grid one.
    # built on the CPU whatever the default device (models are also built on 'meta')
    labels = torch.zeros(padded, dtype=torch.long, device='cpu')
    valid = torch.ones(padded, dtype=torch.bool, device='cpu')
    for dim, (p, r, w, s) in enumerate(zip(padded, real, window, shift)):
        pos = torch.arange(p, device='cpu')
        region = (pos >= p - w).long() + (pos >= p - s).long() if s else pos * 0
        view = [1] * len(padded)
        view[dim] = p
        labels = labels * 3 + region.view(view)
        # after the roll, token `pos` holds the input token `(pos + s) % p`
        valid = valid & (((pos + s) % p) < r).view(view)
    labels = window_partition(labels[None, ..., None], window)[..., 0]  # (nW, N)
    valid = window_partition(valid[None, ..., None], window)[..., 0]
    allowed = labels[:, :, None] == labels[:, None, :]
    # real queries never see padded keys; padded queries (discarded later) may see anything
    # of their region, so no row is empty
    allowed &= valid[:, None, :] | ~valid[:, :, None]
    mask = torch.zeros(allowed.shape, device='cpu')
    mask[~allowed] = MASK_VALUE
    return mask.to(device)  # (num_windows, N, N)


def window_mask(padded: Sequence[int], real: Sequence[int], window: Sequence[int],
                shift: Sequence[int], device=None) -> Optional[torch.Tensor]:
    """Additive attention mask (num_windows, N, N) of a grid of size ``real`` padded to
    ``padded``, cut into windows of ``window`` after a cyclic shift by ``-shift``: 0 where two
    tokens of a window may attend to each other, :data:`MASK_VALUE` where they came from
    different places of the unshifted grid or the key is padding. ``None`` when nothing is
    masked (no shift, no padding). Masks are cached per geometry and device (one per
    stage in practice), so blocks do not rebuild or re-upload them."""
    return _window_mask(tuple(padded), tuple(real), tuple(window), tuple(shift),
                        torch.device(device or 'cpu'))


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows with a learned relative-position bias.

    Works for 2D windows (Swin) and 3D windows (Video Swin). The bias (and the shift/pad
    mask) is passed to ``F.scaled_dot_product_attention`` as ``attn_mask``, so on GPU the
    memory-efficient kernel runs instead of an explicit softmax.

    Args:
        dim: token width C.
        window_size: the window the bias table is sized for, e.g. (7, 7) or (8, 7, 7).
        num_heads: attention heads.
        qkv_bias: learn a bias for q, k, v.
        qk_scale: logit scale; default ``head_dim ** -0.5``.
        attn_drop: dropout on the attention weights (training only).
        proj_drop: dropout after the output projection.
    """

    def __init__(self,
                 dim: int,
                 window_size: Sequence[int],
                 num_heads: int,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 attn_drop: float = 0.0,
                 proj_drop: float = 0.0):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'width {dim} is not divisible by num_heads {num_heads}')
        self.dim = dim
        self.window_size = tuple(window_size)
        self.num_heads = num_heads
        self.scale = qk_scale or (dim // num_heads)**-0.5
        self.attn_drop = attn_drop
        rows = math.prod(2 * w - 1 for w in self.window_size)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(rows, num_heads))
        self.register_buffer('relative_position_index',
                             relative_position_index(self.window_size))
        self._sub_window_index = {}
        self.qkv = Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def relative_position_bias(self, window: Sequence[int]) -> torch.Tensor:
        """(heads, N, N) bias of a window of size ``window`` (the configured one or smaller)."""
        window = tuple(window)
        index = self.relative_position_index
        if window != self.window_size:
            key = (window, index.device)
            if key not in self._sub_window_index:  # a small dict: one entry per geometry
                self._sub_window_index[key] = relative_position_index(
                    window, self.window_size).to(index.device)
            index = self._sub_window_index[key]
        n = index.shape[0]
        bias = self.relative_position_bias_table[index.reshape(-1)].view(n, n, -1)
        return bias.permute(2, 0, 1)

    def attend(self, x: torch.Tensor, bias: Optional[torch.Tensor]) -> torch.Tensor:
        """Attention of the token groups ``x`` (G, N, C) with additive logits ``bias``.

        ``bias`` is ``None``, (heads, N, N) shared by all groups, or (M, heads, N, N) for
        G = B * M groups whose bias depends on the group's position among M (the windows of
        one image). The M groups of a sample are then folded into the head dimension, so the
        (M * heads, N, N) bias broadcasts over the batch instead of being copied B times.
        """
        n = x.shape[1]
        h = self.num_heads
        qkv = self.qkv(x)
        per_group = bias is not None and bias.ndim == 4
        if per_group:
            m = bias.shape[0]
            q, k, v = rearrange(qkv, '(b m) n (three h d) -> three b (m h) n d', three=3,
                                h=h, m=m)
            mask = bias.reshape(1, m * h, n, n)
        else:
            q, k, v = rearrange(qkv, 'g n (three h d) -> three g h n d', three=3, h=h)
            mask = None if bias is None else bias.unsqueeze(0)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=None if mask is None else mask.to(q.dtype),
            dropout_p=self.attn_drop if self.training else 0.0, scale=self.scale)
        if per_group:
            out = rearrange(out, 'b (m h) n d -> (b m) n (h d)', h=h)
        else:
            out = rearrange(out, 'g h n d -> g n (h d)')
        return self.proj_drop(self.proj(out))

    def forward(self, windows: torch.Tensor, window: Sequence[int],
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Attention within windows.

        Args:
            windows: (B * num_windows, N, C) tokens, N = prod(window).
            window: the window actually used (the grid may have shrunk it).
            mask: optional (num_windows, N, N) shift/pad mask of :func:`window_mask`.
        """
        bias = self.relative_position_bias(window)
        if mask is not None:
            bias = bias.unsqueeze(0) + mask.unsqueeze(1)  # (nW, heads, N, N)
        return self.attend(windows, bias)

    def extra_repr(self) -> str:
        return f'dim={self.dim}, window_size={self.window_size}, num_heads={self.num_heads}'


@lru_cache(maxsize=32)
def _window_order(padded: Tuple[int, ...], window: Tuple[int, ...], shift: Tuple[int, ...],
                  device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Where each token goes when a grid is rolled by ``-shift`` and cut into windows.

    Returns ``order``, the flat (row-major) grid position of the token at each place of the
    windows, and its inverse. Gathering with them replaces roll + partition + reverse +
    roll by two ``index_select`` copies (5x faster on CPU than the four copies they make).
    """
    pos = torch.arange(math.prod(padded), device='cpu').view(padded)
    if any(shift):
        pos = torch.roll(pos, shifts=[-s for s in shift], dims=tuple(range(len(padded))))
    order = window_partition(pos[None, ..., None], window).flatten()
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel(), device='cpu')
    return order.to(device), inverse.to(device)


def shifted_window_attention(attn: WindowAttention, x: torch.Tensor, window: Sequence[int],
                             shift: Sequence[int],
                             mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """(Shifted-)window attention over a channels-last grid ``x`` (B, *grid, C).

    Pads the grid to a multiple of the window, rolls it by ``-shift``, attends within
    windows (``mask`` may supply the precomputed mask of this geometry), and undoes both.
    ``window``/``shift`` are the configured ones; :func:`effective_window` adapts them to
    the grid.
    """
    grid = tuple(x.shape[1:-1])
    window, shift = effective_window(grid, window, shift)
    pads = [(-g) % w for g, w in zip(grid, window)]
    if any(pads):
        pad_arg = [0, 0]  # channels
        for p in reversed(pads):
            pad_arg += [0, p]
        x = F.pad(x, pad_arg)
    padded = tuple(x.shape[1:-1])
    if mask is None:
        mask = window_mask(padded, grid, window, shift, device=x.device)
    b, c = x.shape[0], x.shape[-1]
    order, inverse = _window_order(padded, window, shift, x.device)
    windows = x.reshape(b, -1, c).index_select(1, order).view(-1, math.prod(window), c)
    out = attn(windows, window, mask)
    out = out.reshape(b, -1, c).index_select(1, inverse).view(b, *padded, c)
    if any(pads):
        out = out[(slice(None), ) + tuple(slice(0, g) for g in grid)]
    return out


class SwinStage(nn.Module):
    """``blocks`` at one resolution, then ``downsample`` (patch merging) unless last; extra
    ``forward`` arguments (the 2D blocks' ``num_frames``) go to every block."""

    def __init__(self, blocks: Sequence[nn.Module], downsample: Optional[nn.Module],
                 with_cp: bool = False):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample
        self.with_cp = with_cp

    def forward(self, x: torch.Tensor, *args) -> torch.Tensor:
        x = run_blocks(self.blocks, x, *args, with_cp=self.with_cp)
        return x if self.downsample is None else self.downsample(x)


class PatchEmbed3D(nn.Module):
    """Non-overlapping (pt, ph, pw) patches of a clip, linearly embedded (a strided Conv3d),
    then optionally layer-normalised.

    Input (B, 3, T, H, W); output (B, C, T/pt, H/ph, W/pw). Every size must be a multiple of
    its patch size: padding a clip with black frames would change what the model sees, so a
    mismatch is an error that says which config key to change.
    """

    def __init__(self, patch_size: Sequence[int] = (2, 4, 4), in_chans: int = 3,
                 embed_dim: int = 96, patch_norm: bool = True):
        super().__init__()
        self.patch_size = tuple(patch_size)
        self.in_chans = in_chans
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=self.patch_size,
                              stride=self.patch_size)
        self.norm = nn.LayerNorm(embed_dim) if patch_norm else None

    def check_input(self, x: torch.Tensor, owner: str) -> None:
        if x.ndim != 5 or x.shape[1] != self.in_chans:
            raise ValueError(
                f'{owner} expects clips shaped (batch, {self.in_chans}, frames, height, '
                f'width); got a tensor of shape {tuple(x.shape)}. Pipelines should end with '
                f"FormatShape(input_format='NCTHW').")
        names = ('frames', 'height', 'width')
        for name, size, p in zip(names, x.shape[2:], self.patch_size):
            if size % p:
                key = ('clip_len of SampleFrames (or model.backbone.patch_size)'
                       if name == 'frames' else 'the crop/resize size of the pipelines')
                raise ValueError(
                    f'{owner} with patch_size={self.patch_size} needs {name} to be a '
                    f'multiple of {p}; got a clip of shape {tuple(x.shape[2:])} (T, H, W). '
                    f'Change {key}.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)
        if self.norm is not None:
            x = self.norm(x.movedim(1, -1)).movedim(-1, 1)
        return x


class FramePatchEmbed(PatchEmbed3D):
    """(p, p) patches of every frame on its own, embedded by a strided Conv2d: the image
    Swin's patch embedding (``proj.weight`` (C, 3, p, p), as in the ImageNet files) applied
    frame by frame. Same interface as :class:`PatchEmbed3D` with patch (1, p, p)."""

    def __init__(self, patch_size: int = 4, in_chans: int = 3, embed_dim: int = 96,
                 patch_norm: bool = True):
        nn.Module.__init__(self)
        self.patch_size = (1, patch_size, patch_size)
        self.in_chans = in_chans
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim) if patch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        x = self.proj(rearrange(x, 'b c t h w -> (b t) c h w'))  # (B*T, C, H/p, W/p)
        x = rearrange(x, '(b t) c h w -> b c t h w', b=b)
        if self.norm is not None:
            x = self.norm(x.movedim(1, -1)).movedim(-1, 1)
        return x


class PatchMerging(nn.Module):
    """Halve the spatial grid and double the width: each 2x2 group of tokens is concatenated
    (4C) and linearly reduced to 2C. Works on (..., H, W, C); an odd H or W is padded with a
    zero row/column first.

    The 2x2 group is concatenated in Swin's order (h, w) = (0,0), (1,0), (0,1), (1,1), which
    the ``reduction`` weights of the checkpoints expect.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-3:-1]
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = rearrange(x, '... (h ph) (w pw) c -> ... h w (pw ph c)', ph=2, pw=2)
        return self.reduction(self.norm(x))


class FrozenStagesMixin:
    """``frozen_stages`` for the Swin backbones: -1 freezes nothing, 0 the patch embedding,
    k >= 1 also the first k stages (eval mode, no gradients); re-applied by every ``train()``
    so that the runner switching modes does not wake them up."""

    def _freeze_stages(self) -> None:
        frozen = []
        if self.frozen_stages >= 0:
            frozen.append(self.patch_embed)
        if self.frozen_stages >= 1:
            frozen.append(self.pos_drop)
            frozen.extend(self.layers[:self.frozen_stages])
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        return self
