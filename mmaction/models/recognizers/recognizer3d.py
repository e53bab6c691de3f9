"""Backbone + head over multi-view clips."""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from ..trainable import AIM_TRAINABLE, apply_trainable_policy


@MODELS.register_module()
class Recognizer3D(BaseModel):
    """Video recognizer for inputs shaped (N, views, C, T, H, W).

    Args:
        backbone: backbone config (``ViT_CLIP``, ``SwinTransformer2D_Adapter`` ...).
        cls_head: head config (``I3DHead``).
        train_cfg: ``blending=dict(type='LabelSmoothing' | 'MixupBlending' |
            'CutmixBlending', num_classes=..., ...)`` turns labels into soft targets.
        test_cfg: ``average_clips``: ``'prob'`` (mean of per-view softmax, AIM's default;
            of per-view sigmoids for a ``multi_class`` head, whose classes are independent),
            ``'score'`` (mean of raw scores) or ``None`` (per-view scores kept, shape
            (views, num_classes) per video); ``max_testing_views``: run at most this many views
            through the backbone at once (less memory; same result).
        data_preprocessor: defaults to :class:`ActionDataPreprocessor` without normalisation.
        trainable_params: ``'all'`` or name patterns of the parameters to train (default:
            AIM's rule, :data:`~mmaction.models.trainable.AIM_TRAINABLE`).
    """

    def __init__(self,
                 backbone: dict,
                 cls_head: dict,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 trainable_params: Union[str, Sequence[str]] = AIM_TRAINABLE,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # built from our registry: BaseModel would search mmengine's root registry
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.cls_head = MODELS.build(cls_head)
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(test_cfg or {})

        self.blending = None
        if self.train_cfg.get('blending') is not None:
            blending = dict(self.train_cfg['blending'])
            if blending.get('num_classes') != self.cls_head.num_classes:
                raise ValueError(
                    f"model.train_cfg.blending.num_classes={blending.get('num_classes')} "
                    f'differs from model.cls_head.num_classes={self.cls_head.num_classes}; '
                    'set both to the number of classes of the dataset.')
            self.blending = MODELS.build(blending)

        average = self.test_cfg.get('average_clips', 'prob')
        if average not in ('prob', 'score', None):
            raise ValueError(f"test_cfg.average_clips must be 'prob', 'score' or None, "
                             f'got {average!r}')
        self.average_clips = average
        max_views = self.test_cfg.get('max_testing_views')
        if max_views is not None and (not isinstance(max_views, int) or max_views < 1):
            raise ValueError(f'test_cfg.max_testing_views must be a positive int or None, '
                             f'got {max_views!r}')
        self.max_testing_views = max_views
        self.trainable_params = trainable_params
        self.num_params, self.num_trainable = apply_trainable_policy(self, trainable_params)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _flatten_views(inputs: torch.Tensor):
        """(N, V, C, T, H, W) -> (N*V, C, T, H, W); a 5-D input counts as one view."""
        if inputs.ndim == 5:
            return inputs, 1
        if inputs.ndim != 6:
            raise ValueError(f'Recognizer3D expects inputs shaped (N, views, C, T, H, W); got '
                             f'{tuple(inputs.shape)}')
        return inputs.flatten(0, 1), inputs.shape[1]

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone features of a (B, C, T, H, W) batch."""
        return self.backbone(inputs)

    def pooled_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """The features the head's ``fc_cls`` receives for every view of (N, views, C, T, H,
        W) inputs (a 5-D input is one view), as (N, views, C): the backbone's output pooled
        by the head (:meth:`I3DHead.pool`), at most ``max_testing_views`` views at a time."""
        clips, views = self._flatten_views(inputs)
        chunk = self.max_testing_views or clips.shape[0]
        feats = torch.cat([self.cls_head.pool(self.extract_feat(part))
                           for part in clips.split(chunk)])
        return feats.view(-1, views, feats.shape[-1])

    def _scores(self, clips: torch.Tensor) -> torch.Tensor:
        """Class scores of (B, C, T, H, W) clips, at most ``max_testing_views`` at a time."""
        chunk = self.max_testing_views or clips.shape[0]
        return torch.cat([self.cls_head(self.extract_feat(part))
                          for part in clips.split(chunk)])

    def combine_views(self, scores: torch.Tensor, views: int) -> torch.Tensor:
        """(N * views, num_classes) scores of the views, video after video, as the test
        scores of the N videos: (N, num_classes) by ``average_clips``, or float32 (N, views,
        num_classes) with ``average_clips=None``."""
        scores = scores.float().view(-1, views, self.cls_head.num_classes)
        if self.average_clips == 'prob':
            # multi-label heads score each class on its own: the sigmoid, not the softmax
            probs = torch.sigmoid(scores) if getattr(self.cls_head, 'multi_class', False) \
                else F.softmax(scores, dim=2)
            return probs.mean(dim=1)
        if self.average_clips == 'score':
            return scores.mean(dim=1)
        return scores

    @staticmethod
    def _labels(data_samples: List[ActionDataSample]) -> torch.Tensor:
        """Class indices (N,), or multi-hot rows (N, num_classes) of multi-label data."""
        labels = [s.gt_label for s in data_samples]
        if labels and labels[0].is_floating_point():
            return torch.stack(labels)
        return torch.cat(labels)

    # ------------------------------------------------------------------ modes
    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            clips, _ = self._flatten_views(inputs)
            return self._scores(clips)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: torch.Tensor, data_samples: List[ActionDataSample]) -> dict:
        clips, views = self._flatten_views(inputs)
        labels = self._labels(data_samples).to(clips.device)
        # every view carries its video's label
        labels = labels.repeat_interleave(views, dim=0)
        soft = None
        if self.blending is not None:
            clips, soft = self.blending(clips, labels)
            soft = soft.to(clips.device)
        cls_score = self.cls_head(self.extract_feat(clips))
        return self.cls_head.loss(cls_score, labels, soft)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[ActionDataSample]] = None) -> List[ActionDataSample]:
        clips, views = self._flatten_views(inputs)
        scores = self.combine_views(self._scores(clips).detach(), views)
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in range(scores.shape[0])]
        for sample, score in zip(data_samples, scores):
            sample.set_pred_score(score)
            sample.set_pred_label(score.mean(0).argmax() if score.ndim == 2 else score.argmax())
        return data_samples
