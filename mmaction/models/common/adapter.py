"""The bottleneck adapter AIM inserts into a frozen image model.

One class serves every backbone (ViT-CLIP, Swin-2D): ``D_fc1 -> GELU -> D_fc2`` with an
optional skip connection. Parameter names (``D_fc1``, ``D_fc2``) are those of the released
AIM checkpoints.
"""
import torch
from torch import nn


class Adapter(nn.Module):
    """Bottleneck adapter.

    Args:
        d_features: width of the tokens it adapts (C).
        mlp_ratio: bottleneck width as a fraction of ``d_features`` (AIM: 0.25).
        skip_connect: add the input back (spatial adapter, ``T_Adapter_in``) or return only
            the branch (temporal and joint adapters, whose output is added to the residual
            stream by the block).

    ``D_fc2`` starts at zero (see :meth:`reset_parameters`), so a skip adapter starts as the
    identity and a branch adapter as zero: the adapted model initially computes exactly what
    the frozen image model computes.
    """

    def __init__(self, d_features: int, mlp_ratio: float = 0.25, skip_connect: bool = True):
        super().__init__()
        hidden = int(d_features * mlp_ratio)
        self.skip_connect = skip_connect
        self.D_fc1 = nn.Linear(d_features, hidden)
        self.act = nn.GELU()
        self.D_fc2 = nn.Linear(hidden, d_features)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.trunc_normal_(self.D_fc1.weight, std=0.02)
        nn.init.zeros_(self.D_fc1.bias)
        nn.init.zeros_(self.D_fc2.weight)
        nn.init.zeros_(self.D_fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.D_fc2(self.act(self.D_fc1(x)))
        return x + out if self.skip_connect else out

    def extra_repr(self) -> str:
        return f'skip_connect={self.skip_connect}'
