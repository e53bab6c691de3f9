"""Datasets and their pipelines; importing this package registers them."""
from .base import AnnotationError, BaseActionDataset, DatasetArgumentError
from .rawframe_dataset import RawframeDataset
from .sampler import SeededIndex, SeededSampler
from .transforms import *  # noqa: F401,F403  (registers the transforms)
from .transforms import VideoDecodeError
from .video_dataset import VideoDataset

__all__ = ['AnnotationError', 'BaseActionDataset', 'DatasetArgumentError', 'RawframeDataset',
           'SeededIndex', 'SeededSampler', 'VideoDataset', 'VideoDecodeError']
