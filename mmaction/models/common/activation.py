"""CLIP's activation, shared by every CLIP-shaped block (the ViT backbones and the plain
image tower that writes OpenAI-layout files).

Written as ``x * sigmoid(1.702 x)``, autograd keeps two tensors of the MLP's hidden width for
the backward pass: ``x`` and the sigmoid. :func:`quick_gelu` keeps ``x`` alone and recomputes
the sigmoid in the backward pass (one elementwise op), with the same forward and the same
gradient to the bit: the backward is autograd's own, op for op.
"""
import torch
from torch import nn


def needs_grad(x: torch.Tensor) -> bool:
    """Whether autograd will keep tensors for ``x``'s gradient (a TorchScript trace records
    plain operations only, so it never takes the custom paths)."""
    return torch.is_grad_enabled() and x.requires_grad and not torch.jit.is_tracing()


def quick_gelu_forward(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


def quick_gelu_backward(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The input gradient of ``x * sigmoid(1.702 x)`` as autograd computes it: the product
    rule's two terms, the sigmoid's through ``sigmoid_backward`` and the scale."""
    s = torch.sigmoid(1.702 * x)
    return grad * s + torch.ops.aten.sigmoid_backward(grad * x, s) * 1.702


class _QuickGELU(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return quick_gelu_forward(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return quick_gelu_backward(grad, x)


def quick_gelu(x: torch.Tensor) -> torch.Tensor:
    """``x * sigmoid(1.702 x)``; when a gradient is needed, only ``x`` is kept for it."""
    if needs_grad(x):
        return _QuickGELU.apply(x)
    return quick_gelu_forward(x)


class QuickGELU(nn.Module):
    """CLIP's activation: ``x * sigmoid(1.702 x)`` (see :func:`quick_gelu`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return quick_gelu(x)
