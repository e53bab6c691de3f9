"""Datasets of videos extracted to frame images."""
from typing import Optional

from mmaction.registry import DATASETS
from .base import AnnotationError, BaseActionDataset, DatasetArgumentError


def check_filename_tmpl(template) -> str:
    """``template`` if it names a different file for each frame index (a ``{}`` field that
    ``str.format`` fills with the index), else a :class:`DatasetArgumentError` saying so."""
    example = "e.g. filename_tmpl='img_{:05}.jpg' (img_00001.jpg, img_00002.jpg ...)"
    if not isinstance(template, str):
        raise DatasetArgumentError(f'filename_tmpl must be a string with a {{}} field for the '
                                   f'frame index, {example}; got {template!r}')
    try:
        first, second = template.format(1), template.format(2)
    except (IndexError, KeyError, ValueError) as err:
        raise DatasetArgumentError(
            f'filename_tmpl={template!r} cannot be filled with a frame index '
            f'({type(err).__name__}: {err}); write one positional field, {example}') from None
    if first == second:
        raise DatasetArgumentError(
            f'filename_tmpl={template!r} has no {{}} field for the frame index, so every '
            f'frame would be the same file {first!r}; {example}')
    return template


@DATASETS.register_module()
class RawframeDataset(BaseActionDataset):
    """Frame folders listed one per line as ``frame_dir TOTAL_FRAMES LABEL`` (with
    ``with_offset``: ``frame_dir OFFSET TOTAL_FRAMES LABEL``), relative to ``data_prefix``;
    or a ``.json`` list of ``{'frame_dir', 'total_frames', 'label'}``.

    Frame ``i`` (counted from ``start_index``, default 1) is
    ``frame_dir/filename_tmpl.format(i + offset)``; a template without a ``{}`` field is
    refused. The arguments come in mmaction2 0.x's order: ``ann_file, pipeline,
    data_prefix, test_mode, filename_tmpl, with_offset, multi_class, num_classes,
    start_index, modality``.

    Each sample starts the pipeline as ``frame_dir``, ``total_frames``, ``label``,
    ``offset`` (with ``with_offset``), ``filename_tmpl``, ``start_index``, ``modality``,
    ``test_mode``. See :class:`BaseActionDataset` for the other arguments.
    """

    PREFIX_KEY = 'img'

    # mmaction2 0.x's positional order: ``RawframeDataset(ann, pipeline, prefix)`` must
    # prefix the paths, not take the prefix as the frame template
    def __init__(self, ann_file: str, pipeline, data_prefix='', test_mode: bool = False,
                 filename_tmpl: str = 'img_{:05}.jpg', with_offset: bool = False,
                 multi_class: bool = False, num_classes: Optional[int] = None,
                 start_index: int = 1, modality: str = 'RGB', **kwargs):
        self.filename_tmpl = check_filename_tmpl(filename_tmpl)
        self.with_offset = with_offset
        super().__init__(ann_file, pipeline, data_prefix=data_prefix, test_mode=test_mode,
                         multi_class=multi_class, num_classes=num_classes,
                         start_index=start_index, modality=modality, **kwargs)

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
