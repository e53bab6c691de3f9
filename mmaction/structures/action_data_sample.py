"""The per-video record that travels beside the input tensor."""
from typing import Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

LabelLike = Union[int, Sequence[int], np.ndarray, torch.Tensor]


def _as_label_tensor(value: LabelLike) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.reshape(-1).long() if value.ndim <= 1 else value
    if isinstance(value, (int, np.integer)):
        return torch.tensor([int(value)], dtype=torch.long)
    return torch.as_tensor(np.asarray(value)).reshape(-1).long()


class ActionDataSample(BaseDataElement):
    """Annotation and prediction of one video.

    Fields (all optional):
        gt_label (LongTensor, shape (1,)): the class index.
        pred_score (FloatTensor): class scores after view averaging, shape (num_classes,);
            with ``test_cfg.average_clips=None`` the per-view scores, shape (views, num_classes).
        pred_label (LongTensor, shape (1,)): argmax of the (averaged) scores.
        metainfo: ``filename``, ``frame_inds``, ``num_views`` ... as the pipeline recorded them.
    """

    def set_gt_label(self, value: LabelLike) -> 'ActionDataSample':
        self.gt_label = _as_label_tensor(value)
        return self

    def set_pred_score(self, value: torch.Tensor) -> 'ActionDataSample':
        self.pred_score = value
        return self

    def set_pred_label(self, value: LabelLike) -> 'ActionDataSample':
        self.pred_label = _as_label_tensor(value)
        return self
