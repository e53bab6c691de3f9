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


def _is_global_average(pool: nn.Module) -> bool:
    return type(pool) is nn.AdaptiveAvgPool3d and pool.output_size in (1, (1, 1, 1))


def precision_at_1(scores: torch.Tensor, multi_hot: torch.Tensor) -> torch.Tensor:
    """Fraction of rows whose highest-scored class is one of their labels (multi-hot)."""
    return (multi_hot.gather(1, scores.argmax(dim=1, keepdim=True)) == 1).float().mean()


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
        multi_class: multi-label recognition: ``loss`` takes multi-hot labels (N,
            num_classes) for the configured loss (``BCELossWithLogits``), and logs
            ``precision_at_1`` instead of top-k accuracies (see :meth:`multi_label_loss`).
        label_smooth_eps: label smoothing of the targets inside the loss.
        topk: accuracies logged during training (single-label).
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
        # the attributes mmaction2 0.x's I3DHead has, for code that reads or replaces them
        self.dropout_ratio = dropout_ratio
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio > 0 else None
        self.avg_pool = nn.AdaptiveAvgPool3d((1, 1, 1)) if spatial_type == 'avg' else None
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.init_weights()

    def init_weights(self) -> None:
        nn.init.normal_(self.fc_cls.weight, std=self.init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """The features ``fc_cls`` reads (dropout aside): (B, C, T, H, W) backbone output
        averaged over T, H and W (``spatial_type='avg'``), as (B, C)."""
        if self.avg_pool is not None and x.ndim == 5:
            # the mean is what AdaptiveAvgPool3d((1, 1, 1)) computes, with a deterministic
            # CUDA backward (the pool's is not: --deterministic would refuse it); a pooling
            # that code put in its place is used as it is
            x = x.mean(dim=(2, 3, 4)) if _is_global_average(self.avg_pool) else \
                self.avg_pool(x)
        x = x.flatten(1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f'I3DHead(in_channels={self.in_channels}) received features with '
                             f'{x.shape[1]} channels; set cls_head.in_channels to the '
                             f"backbone's output width ({x.shape[1]}).")
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, C, T, H, W) -> (B, num_classes)
        x = self.pool(x)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x)

    def loss(self, cls_score: torch.Tensor, labels: torch.Tensor,
             soft_targets: torch.Tensor = None) -> dict:
        """Loss and training accuracies.

        ``labels`` are hard class indices (N,); ``soft_targets`` (N, num_classes), when a
        blending produced them, replace them as the loss target. Accuracies always use the
        hard labels. As in mmaction2 0.x, a batch of one may come as a scalar label (or, for
        soft labels, a (num_classes,) vector), and ``labels`` shaped like ``cls_score`` are
        soft targets themselves (no accuracies then).
        """
        if labels.ndim == 0:
            labels = labels.unsqueeze(0)
        elif labels.ndim == 1 and len(cls_score) == 1 and labels.numel() == self.num_classes \
                and self.num_classes > 1:
            labels = labels.unsqueeze(0)
        if self.multi_class:
            return self.multi_label_loss(cls_score, labels, soft_targets)
        if soft_targets is None and labels.shape == cls_score.shape:
            return {'loss_cls': self.loss_cls(cls_score, labels)}
        losses = top_k_hits(cls_score.detach(), labels, self.topk)
        target = labels
        if soft_targets is not None:
            target = soft_targets
        elif self.label_smooth_eps > 0:
            onehot = F.one_hot(labels, self.num_classes).to(cls_score.dtype)
            target = onehot * (1 - self.label_smooth_eps) + self.label_smooth_eps / self.num_classes
        losses['loss_cls'] = self.loss_cls(cls_score, target)
        return losses

    def multi_label_loss(self, cls_score: torch.Tensor, labels: torch.Tensor,
                         soft_targets: torch.Tensor = None) -> dict:
        """Loss of multi-label scores and ``precision_at_1`` (the fraction of videos whose
        top-scored class is one of theirs; top-k accuracy needs one label per video).

        ``labels`` are multi-hot rows (N, num_classes) (class indices (N,) count as one-hot
        rows); ``soft_targets`` from a blending replace them as the target. As in 0.x,
        ``label_smooth_eps`` moves every target towards ``1 / num_classes``:
        ``(1 - eps) * target + eps / num_classes``.
        """
        if labels.ndim == 1 and not labels.is_floating_point():
            labels = F.one_hot(labels.long(), self.num_classes)
        if labels.shape != cls_score.shape:
            raise ValueError(f'I3DHead(multi_class=True) needs multi-hot labels shaped like '
                             f'the scores {tuple(cls_score.shape)}; got {tuple(labels.shape)}. '
                             'Set multi_class=True and num_classes in the datasets.')
        target = labels.float() if soft_targets is None else soft_targets
        if self.label_smooth_eps > 0:
            target = (1 - self.label_smooth_eps) * target + \
                self.label_smooth_eps / self.num_classes
        return dict(precision_at_1=precision_at_1(cls_score.detach(), labels),
                    loss_cls=self.loss_cls(cls_score, target))
