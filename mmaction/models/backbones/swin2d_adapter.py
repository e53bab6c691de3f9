"""AIM on Swin: an ImageNet Swin, frozen, with spatial, temporal and joint adapters.

The paper's Swin study (Yang et al., ICLR 2023, Table 6) adapts an ImageNet-21K Swin-B the
way it adapts CLIP's ViT. Each block of :class:`SwinTransformer2D` gains:

1. temporal adaptation (even blocks, the unshifted ones): the block's own frozen attention,
   run across the T' temporal tokens of each spatial position with a learned relative
   temporal bias, followed by ``T_Adapter`` (no skip); added to the residual stream;
2. spatial adaptation: the window attention's output goes through ``S_Adapter2`` (with skip);
3. joint adaptation: ``S_Adapter`` (no skip) beside the frozen MLP, scaled by 0.5.

The names are those of the released AIM-Swin checkpoints, where the joint adapter is called
``S_Adapter`` and the spatial one ``S_Adapter2``. Every adapter's ``D_fc2`` starts at zero, so
at initialisation this model computes exactly what :class:`SwinTransformer2D` computes with
the same weights, frame by frame.
"""
import math
from typing import Optional, Sequence

import torch
from einops import rearrange
from mmengine.logging import MMLogger
from torch import nn

from mmaction.registry import MODELS
from ..common import Adapter
from ..common.resize import interpolate
from .swin2d import SwinBlock2D, SwinTransformer2D
from .swin_common import WindowAttention


def resample_temporal_table(table: torch.Tensor, t: int) -> torch.Tensor:
    """A relative temporal bias table (2T'-1, heads) for t temporal tokens: (2t-1, heads),
    linearly resampled with its ends and its centre (offset 0) kept, i.e. offsets measured
    as fractions of the clip. Used for clips of another length and for checkpoints of
    another ``num_frames`` (:mod:`mmaction.checkpoint.frames`)."""
    rows = table.shape[0]
    if rows == 2 * t - 1:
        return table
    if t == 1:  # the only offset is 0: the table's centre row
        return table[(rows - 1) // 2:(rows + 1) // 2]
    return interpolate(table.t()[None], 2 * t - 1, mode='linear', align_corners=True)[0].t()


class SpaceTimeWindowAttention(WindowAttention):
    """Window attention that can also attend across time with the same weights.

    Args:
        num_t_tokens: T', the temporal tokens ``temporal_position_bias_table`` (2T'-1, heads)
            is sized for. Clips with another T' interpolate the table (see
            :meth:`temporal_bias`).
        t_relative: learn the relative temporal bias; ``False`` attends over time without
            a bias.
        other arguments: as :class:`~.swin_common.WindowAttention`.
    """

    def __init__(self, dim: int, window_size: Sequence[int], num_heads: int, num_t_tokens: int,
                 t_relative: bool = True, **kwargs):
        super().__init__(dim, window_size, num_heads, **kwargs)
        self.num_t_tokens = num_t_tokens
        self.t_relative = t_relative
        if t_relative:
            self.temporal_position_bias_table = nn.Parameter(
                torch.zeros(2 * num_t_tokens - 1, num_heads))
            nn.init.trunc_normal_(self.temporal_position_bias_table, std=0.02)
            self.register_buffer('t_relative_coords', self._coords(num_t_tokens))

    @staticmethod
    def _coords(t: int) -> torch.Tensor:
        """(t, t) table rows of the offsets ``i - j``, shifted to start at 0."""
        pos = torch.arange(t)
        return pos[:, None] - pos[None, :] + (t - 1)

    @classmethod
    def _is_coords_table(cls, value: torch.Tensor) -> bool:
        """Whether ``value`` is the offsets table of some T, as (T, T) or flattened (T*T,)."""
        t = math.isqrt(value.numel())
        return (t > 0 and t * t == value.numel() and value.ndim in (1, 2)
                and (value.ndim == 1 or tuple(value.shape) == (t, t))
                and torch.equal(value.reshape(t, t).cpu().long(), cls._coords(t)))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # ``t_relative_coords`` is derived from T'. AIM's code stores it flattened (T'*T',);
        # a checkpoint of another num_frames has another T'. Either way this module's own
        # table is the right one, so a valid table of any layout is replaced by it.
        key = prefix + 't_relative_coords'
        value = state_dict.get(key)
        if self.t_relative and isinstance(value, torch.Tensor) and \
                value.shape != self.t_relative_coords.shape and self._is_coords_table(value):
            state_dict[key] = self.t_relative_coords.clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def temporal_bias(self, t: int) -> Optional[torch.Tensor]:
        """(heads, t, t) bias for t temporal tokens.

        A table learnt for T' tokens is linearly resampled to 2t-1 offsets with its ends and
        its centre (offset 0) kept, i.e. offsets are measured as fractions of the clip.
        """
        if not self.t_relative:
            return None
        table = self.temporal_position_bias_table
        if t == self.num_t_tokens:
            coords = self.t_relative_coords
        else:
            table = resample_temporal_table(table, t)
            coords = self._coords(t).to(table.device)
        return table[coords.reshape(-1)].view(t, t, -1).permute(2, 0, 1)

    def temporal(self, x: torch.Tensor) -> torch.Tensor:
        """Attention across time: ``x`` (B * H * W, T', C), one sequence per position."""
        return self.attend(x, self.temporal_bias(x.shape[1]))


class AdaptedSwinBlock2D(SwinBlock2D):
    """A frozen Swin block with AIM's adapters.

    Args:
        temporal: attend over time first (AIM does this in even, unshifted blocks).
        num_t_tokens, t_relative: see :class:`SpaceTimeWindowAttention`.
        adapter_scale: scale of the joint adapter's branch (0.5).
        other arguments: as :class:`SwinBlock2D`.
    """

    def __init__(self, dim: int, num_heads: int, window_size: int = 7, *, temporal: bool,
                 num_t_tokens: int, t_relative: bool = True, adapter_scale: float = 0.5,
                 qkv_bias: bool = True, qk_scale: Optional[float] = None,
                 attn_drop: float = 0.0, drop: float = 0.0, **kwargs):
        attn_kw = dict(qkv_bias=qkv_bias, qk_scale=qk_scale, attn_drop=attn_drop,
                       proj_drop=drop)
        if temporal:
            attn = SpaceTimeWindowAttention(dim, (window_size, window_size), num_heads,
                                            num_t_tokens, t_relative, **attn_kw)
        else:
            attn = WindowAttention(dim, (window_size, window_size), num_heads, **attn_kw)
        super().__init__(dim, num_heads, window_size, qkv_bias=qkv_bias, qk_scale=qk_scale,
                         attn_drop=attn_drop, drop=drop, attn=attn, **kwargs)
        self.temporal = temporal
        self.adapter_scale = adapter_scale
        if temporal:
            self.T_Adapter = Adapter(dim, skip_connect=False)
        self.S_Adapter2 = Adapter(dim, skip_connect=True)  # spatial
        self.S_Adapter = Adapter(dim, skip_connect=False)  # joint

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        # x: (B * T', H, W, C), the T' maps of a clip contiguous
        if self.temporal:
            h, w = x.shape[1:3]
            xt = rearrange(x, '(b t) h w c -> (b h w) t c', t=num_frames)
            xt = self.T_Adapter(self.attn.temporal(self.norm1(xt)))
            x = x + self.drop_path(rearrange(xt, '(b h w) t c -> (b t) h w c', h=h, w=w))

        x = x + self.drop_path(self.S_Adapter2(self.window_attention(self.norm1(x))))

        xn = self.norm2(x)
        x = x + self.drop_path(self.mlp(xn))
        return x + self.drop_path(self.adapter_scale * self.S_Adapter(xn))


@MODELS.register_module()
class SwinTransformer2D_Adapter(SwinTransformer2D):
    """AIM-Swin: :class:`SwinTransformer2D` with temporal, spatial and joint adapters.

    Args:
        num_frames: the clip length the temporal bias tables are sized for; they have
            2 * T' - 1 rows for T' = num_frames // patch_size[0] temporal tokens. Clips of
            another length work (the tables are interpolated).
        t_relative: learn a relative temporal position bias in the temporal attention.
        adapter_scale: scale of the joint adapter (0.5).
        other arguments: as :class:`SwinTransformer2D`.

    Input (B, 3, T, H, W) float; output (B, 8 * embed_dim, T / pt, H / 32, W / 32).
    AIM's rule (``model.trainable_params``) trains the adapters and the head; the temporal
    bias tables then keep their initial values, as in AIM. The AIM-Swin base config shows
    how to train them and the final ``norm`` too.
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 patch_size: Sequence[int] = (2, 4, 4),
                 num_frames: int = 32,
                 t_relative: bool = True,
                 adapter_scale: float = 0.5,
                 **kwargs):
        pt = 1 if isinstance(patch_size, int) else patch_size[0]  # frames per token
        if num_frames < pt or num_frames % pt:
            raise ValueError(
                f'model.backbone.num_frames={num_frames} must be a positive multiple of the '
                f'temporal patch size patch_size[0]={pt} (each temporal token '
                f'embeds {pt} frames); use e.g. '
                f'{max(pt, num_frames // pt * pt)}, with the '
                'same clip_len in the pipelines.')
        self.t_relative = t_relative
        self.adapter_scale = adapter_scale
        super().__init__(pretrained=pretrained, patch_size=patch_size, num_frames=num_frames,
                         **kwargs)
        self._reported_lengths = set()

    def build_block(self, stage: int, index: int, **kwargs) -> nn.Module:
        return AdaptedSwinBlock2D(
            temporal=index % 2 == 0,
            num_t_tokens=self.num_frames // self.patch_size[0],
            t_relative=self.t_relative,
            adapter_scale=self.adapter_scale,
            **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        t, sized_for = out.shape[2], self.num_frames // self.patch_size[0]
        if t != sized_for and t not in self._reported_lengths:
            self._reported_lengths.add(t)
            MMLogger.get_current_instance().info(
                f'SwinTransformer2D_Adapter: clips of {x.shape[2]} frames give {t} temporal '
                f'tokens; the temporal position bias tables were sized for {sized_for} '
                f'(num_frames={self.num_frames}) and are interpolated to {2 * t - 1} offsets.')
        return out
