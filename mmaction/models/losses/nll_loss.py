"""Negative log-likelihood of log-probabilities (mmaction2 0.x's ``NLLLoss``)."""
import torch
import torch.nn.functional as F
from torch import nn

from mmaction.registry import MODELS


@MODELS.register_module()
class NLLLoss(nn.Module):
    """``F.nll_loss`` of log-probabilities (N, K) against hard labels (N,), times
    ``loss_weight``: for a head whose scores are already ``log_softmax`` outputs (on raw
    scores, use :class:`CrossEntropyLoss`). Keyword arguments of the call (``weight``,
    ``ignore_index``, ``reduction``) go to ``F.nll_loss``, as in 0.x."""

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, **kwargs) -> torch.Tensor:
        return self.loss_weight * F.nll_loss(cls_score.float(), label.long(), **kwargs)
