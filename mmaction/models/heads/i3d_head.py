"""Linear classification head over pooled spatio-temporal features."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmaction.registry import MODELS


def top_k_hits(scores: torch.Tensor, labels: torch.Tensor, topk: Sequence[int]) -> dict:
    """Fraction of rows whose label is among the k highest scores, for each k."""
    maxk = min(max(topk), scores.shape[1])
    pred = scores.topk(maxk, dim=1).indices  # (N, maxk)
    hit = pred == labels.view(-1, 1)
    return {f'top{k}_acc': hit[:, :min(k, maxk)].any(dim=1).float().mean() for k in topk}


@MODELS.register_module()
class I3DHead(BaseModule):
    """Average-pool (B, C, T, H, W) features, dropout, then ``fc_cls``.

    Args:
        num_classes: number of action classes.
        in_channels: C of the backbone output (768 for ViT-B, 1024 for ViT-L and Swin-B).
        loss_cls: loss config (default cross-entropy).
        spatial_type: ``'avg'`` pools over T, H and W; ``None`` expects pooled input.
        dropout_ratio: dropout before ``fc_cls``.
        init_std: std of the normal init of ``fc_cls.weight``.
        multi_class: sigmoid-style multi-label scores (kept for mmaction configs).
        label_smooth_eps: label smoothing of hard labels inside the loss.
        topk: accuracies logged during training.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 spatial_type: str = 'avg',
                 dropout_ratio: float = 0.5,
                 init_std: float = 0.01,
                 multi_class: bool = False,
                 label_smooth_eps: float = 0.0,
                 topk: Sequence[int] = (1, 5),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if spatial_type not in ('avg', None):
            raise ValueError(f"spatial_type must be 'avg' or None, got {spatial_type!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.spatial_type = spatial_type
        self.multi_class = multi_class
        self.label_smooth_eps = label_smooth_eps
        self.topk = tuple(topk)
        self.init_std = init_std
        self.loss_cls = MODELS.build(loss_cls)
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.init_weights()

    def init_weights(self) -> None:
        nn.init.normal_(self.fc_cls.weight, std=self.init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """The features ``fc_cls`` reads (dropout aside): (B, C, T, H, W) backbone output
        averaged over T, H and W (``spatial_type='avg'``), as (B, C)."""
        if self.spatial_type == 'avg' and x.ndim == 5:
            x = x.mean(dim=(2, 3, 4))
        x = x.flatten(1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f'I3DHead(in_channels={self.in_channels}) received features with '
                             f'{x.shape[1]} channels; set cls_head.in_channels to the '
                             f"backbone's output width ({x.shape[1]}).")
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, C, T, H, W) -> (B, num_classes)
        return self.fc_cls(self.dropout(self.pool(x)))

    def loss(self, cls_score: torch.Tensor, labels: torch.Tensor,
             soft_targets: torch.Tensor = None) -> dict:
        """Loss and training accuracies.

        ``labels`` are hard class indices (N,); ``soft_targets`` (N, num_classes), when a
        blending produced them, replace them as the loss target. Accuracies always use the
        hard labels.
        """
        losses = {}
        if not self.multi_class:
            losses.update(top_k_hits(cls_score.detach(), labels, self.topk))
        target = labels
        if soft_targets is not None:
            target = soft_targets
        elif self.label_smooth_eps > 0:
            onehot = F.one_hot(labels, self.num_classes).to(cls_score.dtype)
            target = onehot * (1 - self.label_smooth_eps) + self.label_smooth_eps / self.num_classes
        losses['loss_cls'] = self.loss_cls(cls_score, target)
        return losses
