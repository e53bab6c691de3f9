"""LayerNorm that always normalises in float32."""
import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` computed in float32 and cast back to the input's dtype.

    CLIP's statistics overflow or lose precision in fp16/bf16 (its activations reach the
    thousands), so the normalisation runs in float32 whatever the autocast state.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = F.layer_norm(x.float(), self.normalized_shape,
                               None if self.weight is None else self.weight.float(),
                               None if self.bias is None else self.bias.float(), self.eps)
        return out.to(x.dtype)
