"""The per-video record that travels beside the input tensor."""
from typing import Any, Generic, Mapping, Optional, Sequence, TypedDict, TypeVar, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

LabelLike = Union[int, Sequence[int], np.ndarray, torch.Tensor]
T = TypeVar('T')


class VideoIssue(TypedDict):
    """A video that could not be read, or that decord could not decode and PyAV did."""
    filename: str
    error: str


class MetaField(Generic[T]):
    """A metainfo field that :class:`ActionDataSample` declares, with its default.

    It is set as any metainfo (``set_metainfo``, ``ActionDataSample(metainfo=...)``, the
    packing steps) and stays metainfo: ``'name' in sample`` says whether it was set, and
    ``to_dict()`` has it only then. Reading ``sample.name`` gives the default when it was not
    set. Metrics receive each sample as the dict ``to_dict()`` makes: :meth:`of` reads the
    field from either.
    """

    def __init__(self, default: T):
        self.default = default
        self.name = ''

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    # BaseDataElement.set_field stores a field with object.__setattr__, which lands here:
    # the value lives in the instance's __dict__ under the field's name, where mmengine's
    # pop() and pickling look for it
    def __get__(self, sample, owner=None):
        if sample is None:
            return self
        return sample.__dict__.get(self.name, self.default)

    def __set__(self, sample, value) -> None:
        sample.__dict__[self.name] = value

    def __delete__(self, sample) -> None:
        if self.name not in sample.__dict__:
            raise AttributeError(self.name)
        del sample.__dict__[self.name]

    def of(self, sample: Union[Mapping[str, Any], BaseDataElement]) -> T:
        """The field of ``sample`` (a data sample, or the dict a metric receives)."""
        return sample.get(self.name, self.default)


def _as_label_tensor(value: LabelLike) -> torch.Tensor:
    """Class indices as a LongTensor (1-D); a float vector of several entries is a
    multi-hot row (multi-label data) and stays float32."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and value.ndim == 1 and value.numel() > 1:
            return value.float()
        return value.reshape(-1).long() if value.ndim <= 1 else value
    if isinstance(value, (int, np.integer)):
        return torch.tensor([int(value)], dtype=torch.long)
    array = np.asarray(value)
    if np.issubdtype(array.dtype, np.floating) and array.ndim == 1 and array.size > 1:
        return torch.from_numpy(array.astype(np.float32))
    return torch.as_tensor(array).reshape(-1).long()


class ActionDataSample(BaseDataElement):
    """Annotation and prediction of one video.

    Data fields (all optional):
        gt_label (LongTensor, shape (1,)): the class index; for multi-label data
            (``multi_class=True``) a FloatTensor (num_classes,), 1 for each label present.
        pred_score (FloatTensor): class scores after view averaging, shape (num_classes,);
            with ``test_cfg.average_clips=None`` the per-view scores, shape (views, num_classes).
        pred_label (LongTensor, shape (1,)): argmax of the (averaged) scores.

    Metainfo: ``frame_dir``, ``frame_inds``, ``num_clips``, ``clip_len`` ... as the pipeline
    recorded them, and the fields below, which the datasets and decoders set and the hooks
    and metrics read (each absent until set; reading an absent one gives its default).
    """

    #: the video file (or frame folder) the sample was read from
    filename: MetaField[Optional[str]] = MetaField(None)
    #: test mode: the video could not be read. The sample keeps its label and its inputs
    #: are another video's (so the batch keeps its shape); the metrics leave it out.
    decode_failed: MetaField[bool] = MetaField(False)
    #: why the video could not be read (with ``decode_failed``)
    error: MetaField[Optional[str]] = MetaField(None)
    #: training: the unreadable videos this sample stands in for, in the order they failed
    #: (BadVideoHook counts them against ``max_bad_fraction``)
    substitutions: MetaField[Sequence[VideoIssue]] = MetaField(())
    #: a video decord could not decode and PyAV did (``error`` is decord's): it counts, and
    #: is reported apart from unreadable videos
    decoder_fallback: MetaField[Optional[VideoIssue]] = MetaField(None)

    def set_gt_label(self, value: LabelLike) -> 'ActionDataSample':
        self.gt_label = _as_label_tensor(value)
        return self

    def set_pred_score(self, value: torch.Tensor) -> 'ActionDataSample':
        self.pred_score = value
        return self

    def set_pred_label(self, value: LabelLike) -> 'ActionDataSample':
        self.pred_label = _as_label_tensor(value)
        return self

    def set_decode_failure(self, filename: str, error: str) -> 'ActionDataSample':
        """Mark the sample of a video that could not be read (test mode)."""
        self.set_metainfo(dict(filename=filename, decode_failed=True, error=error))
        return self

    def set_substitutions(self, issues: Sequence[VideoIssue]) -> 'ActionDataSample':
        """Record the unreadable videos this (training) sample stands in for."""
        self.set_metainfo(dict(substitutions=list(issues)))
        return self
