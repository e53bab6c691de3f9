"""A linear layer that keeps nothing for the backward pass when its weight is frozen.

A frozen layer needs only its input gradient, ``grad @ W``. Autograd already keeps no input
for it, but under autocast it keeps the low-precision copy of ``W`` that autocast made for
the call (autocast caches no copy of a weight that needs no gradient, so each call makes and
keeps its own): a second, half-size copy of the frozen trunk per step. :func:`linear` keeps
the float32 parameter itself and casts it again in the backward pass, computing the same
products in the same dtypes as autocast's ``linear`` and its backward.
"""
import torch
import torch.nn.functional as F
from torch import nn

from .activation import needs_grad


class _FrozenLinear(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, weight, bias):
        out = F.linear(x, weight, bias)  # under autocast, cast as autocast casts it
        ctx.save_for_backward(weight)
        ctx.compute_dtype = out.dtype
        return out

    @staticmethod
    def backward(ctx, grad):
        weight, = ctx.saved_tensors
        return frozen_linear_input_grad(grad, weight, ctx.compute_dtype), None, None


def frozen_linear_input_grad(grad: torch.Tensor, weight: torch.Tensor,
                             dtype: torch.dtype) -> torch.Tensor:
    """``grad @ W`` with ``W`` in the dtype the forward product used."""
    return grad.matmul(weight.to(dtype))


def is_frozen(*params) -> bool:
    return not any(p is not None and p.requires_grad for p in params)


def linear(x: torch.Tensor, weight: torch.Tensor, bias=None) -> torch.Tensor:
    """``F.linear``; with a frozen weight (and bias) only the parameter is kept for the
    input gradient."""
    if needs_grad(x) and is_frozen(weight, bias):
        return _FrozenLinear.apply(x, weight, bias)
    return F.linear(x, weight, bias)


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters and names) computed by :func:`linear`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)
