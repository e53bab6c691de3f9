"""Cross-entropy over hard labels or soft (blended / smoothed) targets."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mmaction.registry import MODELS


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Cross-entropy of class scores against hard labels (N,) or probabilities (N, K).

    Args:
        loss_weight: factor applied to the loss.
        class_weight: per-class weights.
        label_smoothing: smoothing applied by ``F.cross_entropy`` to hard labels.
    """

    def __init__(self, loss_weight: float = 1.0, class_weight: Optional[Sequence[float]] = None,
                 label_smoothing: float = 0.0):
        super().__init__()
        self.loss_weight = loss_weight
        self.label_smoothing = label_smoothing
        self.register_buffer(
            'class_weight',
            None if class_weight is None else torch.tensor(class_weight, dtype=torch.float),
            persistent=False)

    def forward(self, cls_score: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # scores may arrive in fp16/bf16 under autocast; the loss is taken in float32.
        cls_score = cls_score.float()
        if target.ndim == 2:  # soft targets
            if target.shape != cls_score.shape:
                raise ValueError(f'soft targets of shape {tuple(target.shape)} do not match '
                                 f'scores of shape {tuple(cls_score.shape)}')
            loss = F.cross_entropy(cls_score, target.float(), weight=self.class_weight)
        else:
            loss = F.cross_entropy(cls_score, target.long(), weight=self.class_weight,
                                   label_smoothing=self.label_smoothing)
        return self.loss_weight * loss
