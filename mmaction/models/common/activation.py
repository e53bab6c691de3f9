"""CLIP's activation, shared by every CLIP-shaped block (the ViT backbones and the plain
image tower that writes OpenAI-layout files)."""
import torch
from torch import nn


class QuickGELU(nn.Module):
    """CLIP's activation: ``x * sigmoid(1.702 x)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)
