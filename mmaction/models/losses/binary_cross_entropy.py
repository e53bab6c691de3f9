"""Binary cross-entropy on logits: one independent yes/no decision per class (multi-label)."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mmaction.registry import MODELS


@MODELS.register_module()
class BCELossWithLogits(nn.Module):
    """mmaction2 0.x's ``BCELossWithLogits``: the mean over videos and classes of
    ``class_weight[k] * BCE(sigmoid(score[n, k]), target[n, k])``, times ``loss_weight``.

    As in 0.x, ``class_weight`` scales each class's terms and the mean still divides by
    ``N * K`` (not by the sum of the weights): weights of 2 double the loss. Keyword
    arguments of the call (``pos_weight``, ``reduction`` ...) go to
    ``F.binary_cross_entropy_with_logits``, as 0.x passed them.

    Targets are multi-hot (or soft) rows shaped like the scores, (N, K). Hard class indices
    (N,) are taken as one-hot rows, so BCE also trains a single-label dataset.

    Args:
        loss_weight: factor applied to the loss (0.x's HVU/MMiT configs use 333 and 160).
        class_weight: one weight per class.
    """

    def __init__(self, loss_weight: float = 1.0, class_weight: Optional[Sequence[float]] = None):
        super().__init__()
        self.loss_weight = loss_weight
        self.register_buffer(
            'class_weight',
            None if class_weight is None else torch.tensor(class_weight, dtype=torch.float),
            persistent=False)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, **kwargs) -> torch.Tensor:
        # scores may arrive in fp16/bf16 under autocast; the loss is taken in float32
        cls_score = cls_score.float()
        num_classes = cls_score.shape[-1]
        if label.ndim == 1 and cls_score.ndim == 2 and not label.is_floating_point():
            label = F.one_hot(label.long(), num_classes)
        if label.shape != cls_score.shape:
            raise ValueError(f'BCELossWithLogits needs targets shaped like the scores '
                             f'{tuple(cls_score.shape)} (multi-hot rows) or class indices '
                             f'({cls_score.shape[0]},); got {tuple(label.shape)}. A multi-label '
                             'dataset needs multi_class=True and num_classes in data.train/val/'
                             'test, and model.cls_head.multi_class=True.')
        if self.class_weight is not None:
            if self.class_weight.numel() != num_classes:
                raise ValueError(f'loss_cls.class_weight has {self.class_weight.numel()} '
                                 f'weights but the head scores {num_classes} classes: give one '
                                 'weight per class.')
            if 'weight' in kwargs:
                raise ValueError("BCELossWithLogits: pass either class_weight or 'weight'")
            kwargs['weight'] = self.class_weight
        loss = F.binary_cross_entropy_with_logits(cls_score, label.float(), **kwargs)
        return self.loss_weight * loss
