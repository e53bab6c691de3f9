"""Datasets of video files."""
from typing import Optional

from mmaction.registry import DATASETS
from .base import AnnotationError, BaseActionDataset


@DATASETS.register_module()
class VideoDataset(BaseActionDataset):
    """Videos listed one per line as ``relative/path.mp4 LABEL`` (``LABEL ...`` with
    ``multi_class``), relative to ``data_prefix``; or a ``.json`` list of
    ``{'filename': ..., 'label': ...}``.

    Each sample starts the pipeline as ``filename`` (prefixed path), ``label``,
    ``start_index`` (default 0), ``modality``, ``test_mode``. See :class:`BaseActionDataset`
    for the arguments and for what happens to unreadable videos.
    """

    PREFIX_KEY = 'video'

    def __init__(self, ann_file: str, pipeline, start_index: int = 0, **kwargs):
        super().__init__(ann_file, pipeline, start_index=start_index, **kwargs)

    def parse_line(self, where: str, line: str, num_classes: Optional[int]) -> dict:
        fields = self.split_fields(where, line, 0)
        if len(fields) < 2:
            raise AnnotationError(f'{where}: expected "path/to/video.mp4 LABEL", got {line!r}')
        return dict(filename=self._join(fields[0]),
                    label=self._label(where, fields[1:], num_classes))

    def parse_json(self, where: str, item: dict, num_classes: Optional[int]) -> dict:
        if not isinstance(item, dict) or 'filename' not in item or 'label' not in item:
            raise AnnotationError(f"{where}: expected {{'filename': ..., 'label': ...}}, got "
                                  f'{item!r}')
        label = item['label']
        labels = label if isinstance(label, list) else [label]
        return dict(filename=self._join(item['filename']),
                    label=self._label(where, labels, num_classes))
