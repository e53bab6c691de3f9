"""Datasets of videos extracted to frame images."""
from typing import Optional

from mmaction.registry import DATASETS
from .base import AnnotationError, BaseActionDataset


@DATASETS.register_module()
class RawframeDataset(BaseActionDataset):
    """Frame folders listed one per line as ``frame_dir TOTAL_FRAMES LABEL`` (with
    ``with_offset``: ``frame_dir OFFSET TOTAL_FRAMES LABEL``), relative to ``data_prefix``;
    or a ``.json`` list of ``{'frame_dir', 'total_frames', 'label'}``.

    Frame ``i`` (counted from ``start_index``, default 1) is
    ``frame_dir/filename_tmpl.format(i + offset)``. Each sample starts the pipeline as
    ``frame_dir``, ``total_frames``, ``label``, ``offset`` (with ``with_offset``),
    ``filename_tmpl``, ``start_index``, ``modality``, ``test_mode``. See
    :class:`BaseActionDataset` for the other arguments.
    """

    PREFIX_KEY = 'img'

    def __init__(self, ann_file: str, pipeline, filename_tmpl: str = 'img_{:05}.jpg',
                 with_offset: bool = False, start_index: int = 1, **kwargs):
        self.filename_tmpl = filename_tmpl
        self.with_offset = with_offset
        super().__init__(ann_file, pipeline, start_index=start_index, **kwargs)

    @staticmethod
    def _count(where: str, name: str, token) -> int:
        try:
            value = int(token)
        except (TypeError, ValueError):
            raise AnnotationError(f'{where}: {name} {token!r} is not an integer') from None
        if value < 0:
            raise AnnotationError(f'{where}: {name} {value} is negative')
        return value

    def parse_line(self, where: str, line: str, num_classes: Optional[int]) -> dict:
        head = 3 if self.with_offset else 2
        fields = self.split_fields(where, line, head - 1)
        if len(fields) < head + 1:
            layout = 'frame_dir OFFSET TOTAL_FRAMES LABEL' if self.with_offset else \
                'frame_dir TOTAL_FRAMES LABEL'
            raise AnnotationError(f'{where}: expected "{layout}", got {line!r}')
        record = dict(frame_dir=self._join(fields[0]))
        if self.with_offset:
            record['offset'] = self._count(where, 'offset', fields[1])
        record['total_frames'] = self._count(where, 'total_frames', fields[head - 1])
        record['label'] = self._label(where, fields[head:], num_classes)
        return record

    def parse_json(self, where: str, item: dict, num_classes: Optional[int]) -> dict:
        needed = ('frame_dir', 'total_frames', 'label')
        if not isinstance(item, dict) or any(k not in item for k in needed):
            raise AnnotationError(f'{where}: expected keys {needed}, got {item!r}')
        record = dict(frame_dir=self._join(item['frame_dir']),
                      total_frames=self._count(where, 'total_frames', item['total_frames']))
        if self.with_offset:
            record['offset'] = self._count(where, 'offset', item.get('offset', 0))
        label = item['label']
        record['label'] = self._label(where, label if isinstance(label, list) else [label],
                                      num_classes)
        return record

    @property
    def sample_fields(self) -> dict:
        return dict(filename_tmpl=self.filename_tmpl)
