"""LayerNorm that always normalises in float32."""
import torch
import torch.nn.functional as F
from torch import nn


class _Float32LayerNorm(torch.autograd.Function):
    """``layer_norm(x.float())`` keeping ``x`` in its own dtype for the backward pass: under
    autocast the residual stream is bf16/fp16, and autograd would keep its float32 copy, twice
    the size. The backward upcasts ``x`` again and calls the same backward kernel."""

    @staticmethod
    def forward(ctx, x, normalized_shape, weight, bias, eps):
        out, mean, rstd = torch.native_layer_norm(x.float(), normalized_shape, weight, bias,
                                                  eps)
        ctx.save_for_backward(x, mean, rstd, weight, bias)
        ctx.normalized_shape = normalized_shape
        return out.to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, mean, rstd, weight, bias = ctx.saved_tensors
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[2], ctx.needs_input_grad[3]]
        gx, gw, gb = torch.ops.aten.native_layer_norm_backward(
            grad.float(), x.float(), ctx.normalized_shape, mean, rstd, weight, bias, mask)
        return gx, None, gw, gb, None


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` computed in float32 and cast back to the input's dtype.

    CLIP's residual stream reaches values in the hundreds, whose statistics lose precision in
    fp16/bf16; so the input is upcast whatever its dtype. Autocast keeps ``layer_norm`` in
    float32 too (it is on autocast's float32 list), so no autocast state needs changing.
    A low-precision input is kept for the backward pass as it came, not upcast
    (:class:`_Float32LayerNorm`).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        if x.dtype != torch.float32 and torch.is_grad_enabled() and not torch.jit.is_tracing() \
                and (x.requires_grad or (weight is not None and weight.requires_grad)):
            return _Float32LayerNorm.apply(x, self.normalized_shape, weight, bias, self.eps)
        out = F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps)
        return out.to(x.dtype)
