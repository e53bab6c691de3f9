"""Cross-entropy over hard labels or soft (blended / smoothed) targets."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mmaction.registry import MODELS


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Cross-entropy of class scores against hard labels (N,) or probabilities (N, K).

    With ``class_weight`` ``w``, as in mmaction2 0.x, the loss is a weighted mean: hard
    labels ``sum_n w[y_n] * l_n / sum_n w[y_n]`` (``F.cross_entropy``'s), soft targets
    ``sum_n sum_c w_c * t_nc * (-log p_nc) / sum_n sum_c w_c * t_nc``. So one-hot targets give
    the hard labels' loss, and blended or smoothed targets are scaled the same way.
    (``F.cross_entropy`` itself divides weighted soft targets by N instead.)

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
            target = target.float()
            if self.class_weight is None:
                loss = F.cross_entropy(cls_score, target)
            else:
                weighted = target * self.class_weight
                loss = -(weighted * F.log_softmax(cls_score, dim=1)).sum() / weighted.sum()
        else:
            loss = F.cross_entropy(cls_score, target.long(), weight=self.class_weight,
                                   label_smoothing=self.label_smoothing)
        return self.loss_weight * loss
