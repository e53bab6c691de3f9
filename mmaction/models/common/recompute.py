"""``with_cp='selective'``: recompute the cheap, large part of a block in the backward pass.

A frozen feed-forward block ``fc2(act(fc1(x)))`` needs, for its input gradient, the hidden
activation ``fc1(x)``: four times the token width, the largest tensor a block keeps. Its
input ``x`` is the LayerNorm output that the joint adapter beside the MLP keeps anyway.
:func:`recomputed_mlp` keeps only ``x`` and recomputes ``fc1(x)`` in the backward pass: one
matrix product more per block, the same gradient to the bit (the same operations, in the
same dtypes, as autograd's backward through the plain block).
"""
import torch
import torch.nn.functional as F
from torch import nn

from .activation import needs_grad, quick_gelu, quick_gelu_backward, quick_gelu_forward
from .linear import frozen_linear_input_grad, is_frozen

#: name: (forward, input gradient from (grad, input), the function outside recomputation)
_ACTIVATIONS = {
    'quick_gelu': (quick_gelu_forward, quick_gelu_backward, quick_gelu),
    'gelu': (F.gelu, lambda grad, h: torch.ops.aten.gelu_backward(grad, h), F.gelu),
}


class _RecomputedMLP(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, w1, b1, w2, b2, act):
        h = F.linear(x, w1, b1)
        out = F.linear(_ACTIVATIONS[act][0](h), w2, b2)
        ctx.save_for_backward(x, w1, b1, w2)
        device = x.device.type
        ctx.autocast = (device, torch.is_autocast_enabled(device),
                        torch.get_autocast_dtype(device))
        ctx.dtypes = (h.dtype, out.dtype)
        ctx.act = act
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w1, b1, w2 = ctx.saved_tensors
        device, enabled, dtype = ctx.autocast
        with torch.no_grad(), torch.autocast(device, dtype=dtype, enabled=enabled):
            h = F.linear(x, w1, b1)  # as in the forward pass
        grad_h = _ACTIVATIONS[ctx.act][1](frozen_linear_input_grad(grad, w2, ctx.dtypes[1]), h)
        return frozen_linear_input_grad(grad_h, w1, ctx.dtypes[0]), None, None, None, None, None


def recomputed_mlp(x: torch.Tensor, fc1: nn.Linear, fc2: nn.Linear, act: str) -> torch.Tensor:
    """``fc2(act(fc1(x)))`` keeping only ``x`` for the backward pass when both layers are
    frozen (``act``: ``'quick_gelu'`` or ``'gelu'``); otherwise the plain block."""
    if needs_grad(x) and is_frozen(
            fc1.weight, fc1.bias, fc2.weight, fc2.bias):
        return _RecomputedMLP.apply(x, fc1.weight, fc1.bias, fc2.weight, fc2.bias, act)
    return fc2(_ACTIVATIONS[act][2](fc1(x)))
