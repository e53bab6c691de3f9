"""LayerNorm that always normalises in float32."""
import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` computed in float32 and cast back to the input's dtype.

    CLIP's residual stream reaches values in the hundreds, whose statistics lose precision in
    fp16/bf16; so the input is upcast whatever its dtype. Autocast keeps ``layer_norm`` in
    float32 too (it is on autocast's float32 list), so no autocast state needs changing.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        out = F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps)
        return out.to(x.dtype)
