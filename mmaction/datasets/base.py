"""What video and frame-folder datasets share: AIM's arguments on mmengine's BaseDataset,
annotation parsing with ``file:line`` errors, and what happens to unreadable videos.

Unreadable videos (:class:`VideoDecodeError` from a decoder: missing, empty, truncated, no
video stream, no frames):

- training: a randomly drawn other sample is returned instead, and the packed sample's
  :attr:`~mmaction.structures.ActionDataSample.substitutions` lists every video it replaces.
  That record travels with the batch out of the data-loader workers, so the main process can
  count (:class:`mmaction.engine.hooks.BadVideoHook` warns once per bad file, reports per
  epoch and stops the run when more than ``max_bad_fraction`` of an epoch was substituted).
  The workers do not warn themselves: they live for the whole run and would each warn anew.
- test mode: nothing is silently replaced. The sample keeps its own label and is marked
  :attr:`~mmaction.structures.ActionDataSample.decode_failed` (with ``filename`` and
  ``error``); its inputs are borrowed from the next readable video so the batch keeps its
  shape. The accuracy metric leaves it out and reports it.

Provenance: reading the list records its path, sha256 and sample count in ``metainfo``
(:data:`~mmaction.structures.DATA_LIST_KEY`), and for evaluation data (``test_mode``) how
many of the listed videos exist; the metrics report it next to their numbers.
"""
import hashlib
import logging
import os.path as osp
import random
import re
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import get, get_text
from mmengine.logging import print_log

from mmaction.registry import TRANSFORMS
from mmaction.structures import DATA_LIST_KEY, ActionDataSample, DataList, VideoIssue
from mmaction.structures.data_list import describe
from mmaction.utils.cli import user_error
from .sampler import SeededIndex
from .transforms.loading import VideoDecodeError

Label = Union[int, List[int]]


@user_error
class AnnotationError(ValueError):
    """A malformed annotation file; the message lists ``file:line`` of each problem."""


@user_error
class DatasetArgumentError(ValueError):
    """A dataset argument that cannot be right; the message names it and the fix."""


#: (pattern of a list path, the command of ``tools/data`` that writes it, where it is
#: explained); the first match wins. ``{0}``, ``{1}`` are the pattern's groups, ``{dir}`` the
#: list's folder, ``{prefix}`` the dataset's ``data_prefix``.
LIST_COMMANDS = (
    (r'(kinetics\d+)/.*rawframes', 'bash tools/data/kinetics/generate_rawframes_filelist.sh {0}',
     'tools/data/kinetics/README.md'),
    (r'(kinetics\d+)/', 'bash tools/data/kinetics/generate_videos_filelist.sh {0}',
     'tools/data/kinetics/README.md'),
    (r'(ucf101|hmdb51)/.*split_(\d).*rawframes',
     'bash tools/data/{0}/generate_rawframes_filelist.sh {1}', 'tools/data/{0}/README.md'),
    (r'(ucf101|hmdb51)/.*split_(\d)', 'bash tools/data/{0}/generate_videos_filelist.sh {1}',
     'tools/data/{0}/README.md'),
    (r'(sthv2|diving48)/.*rawframes', 'bash tools/data/{0}/generate_rawframes_filelist.sh',
     'tools/data/{0}/README.md'),
    (r'(sthv2|diving48)/', 'bash tools/data/{0}/generate_videos_filelist.sh',
     'tools/data/{0}/README.md'),
    (r'synthetic/', 'python tools/quickstart.py', 'README.md, "Quickstart"'),
    (r'(?:^|/)(train|val)_list\.txt$',
     'python tools/data/build_file_list.py custom {prefix} --format videos --out-dir {dir}',
     'docs/custom_dataset.md'),
)


def annotation_list_command(ann_file: str, data_prefix: Optional[str] = None) -> Tuple[str, str]:
    """(the command that writes the annotation list ``ann_file``, going by its path, as
    docs/data.md's table gives it; where that command is explained)."""
    path = str(ann_file).replace('\\', '/')
    for pattern, command, doc in LIST_COMMANDS:
        match = re.search(pattern, path.lower())
        if match:
            groups = match.groups()
            return (command.format(*groups, dir=osp.dirname(path) or '.',
                                   prefix=data_prefix or 'SRC'), doc.format(*groups))
    kind = 'rawframes' if 'rawframe' in path.lower() else 'videos'
    return (f'python tools/data/build_file_list.py DATASET {data_prefix or "SRC_FOLDER"} '
            f'--subset train --format {kind} --out {path}', 'docs/data.md, "Preparing a dataset"')


def missing_annotation_message(ann_file: str, key: Optional[str] = None,
                               data_prefix: Optional[str] = None) -> str:
    """What to say when the annotation list ``ann_file`` is missing: both keys of the
    dataset (``key``: the config path of the dataset, e.g. ``data.train``), the folder its
    paths are relative to, and the command that writes it."""
    command, doc = annotation_list_command(ann_file, data_prefix)
    ann_key = f'{key}.ann_file' if key else 'ann_file'
    prefix_key = f'{key}.data_prefix' if key else 'data_prefix'
    folder = f' Its paths are relative to {prefix_key}={data_prefix}.' if data_prefix else ''
    other = (f'--cfg-options {ann_key}=LIST {prefix_key}=FOLDER' if key else
             f'{ann_key}=LIST and {prefix_key}=FOLDER')
    return (f'{ann_key}: the annotation list {ann_file} does not exist.{folder} Write it with '
            f'`{command}` ({doc}), or point to your own list and the folder its paths are '
            f'relative to with {other}.')


class BaseActionDataset(BaseDataset):
    """Common base of :class:`VideoDataset` and :class:`RawframeDataset`.

    Args:
        ann_file: the annotation list (text, one sample per line, or a ``.json`` list).
        pipeline: transform configs (or callables), applied in order.
        data_prefix: directory the annotated paths are relative to (AIM: a string; a dict
            such as ``dict(video=...)`` is accepted too).
        test_mode: evaluation data: deterministic sampling (samplers without their own
            ``test_mode`` follow it) and no substitution of unreadable videos.
        multi_class: several labels per line (``num_classes`` is then required); each
            sample's ``label`` enters the pipeline as a multi-hot float32 row
            (num_classes,), as in mmaction2 0.x.
        num_classes: when given, labels are checked to be below it.
        start_index: index of a video's first frame (0 for video files, 1 for
            ``img_00001.jpg``).
        modality: ``'RGB'``.
        label_file: optional class-name file, one name per line, line ``i`` naming class
            ``i``; becomes ``metainfo['classes']``.
        max_bad_fraction: training: the fraction of an epoch that may be substituted
            for unreadable videos before :class:`BadVideoHook` stops the run.
        max_refetch: how many substitutes are tried for one sample before giving up.
        data_root, lazy_init, serialize_data, indices, metainfo: as mmengine's BaseDataset.
    """

    #: key of ``data_prefix`` that holds the directory of the annotated paths
    PREFIX_KEY = 'video'
    #: labels are checked against ``num_classes``: the engine passes the head's when the
    #: config gives none, so a label the head cannot predict fails when the list is read
    #: (``file:line``), not as an index error inside the loss hours later
    checks_labels = True

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]],
                 data_prefix: Union[str, Dict[str, str], None] = '',
                 test_mode: bool = False,
                 multi_class: bool = False,
                 num_classes: Optional[int] = None,
                 start_index: int = 0,
                 modality: str = 'RGB',
                 label_file: Optional[str] = None,
                 max_bad_fraction: float = 0.01,
                 max_refetch: int = 1000,
                 data_root: str = '',
                 metainfo: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 lazy_init: bool = False):
        if modality != 'RGB':
            raise ValueError(f"modality={modality!r} is not supported; only 'RGB'")
        if multi_class and num_classes is None:
            raise ValueError('multi_class=True needs num_classes')
        if not 0 <= max_bad_fraction <= 1:
            raise ValueError(f'max_bad_fraction must be in [0, 1], got {max_bad_fraction}')
        self.multi_class = multi_class
        self.num_classes = num_classes
        self.start_index = start_index
        self.modality = modality
        self.label_file = label_file
        self.max_bad_fraction = max_bad_fraction
        if not isinstance(data_prefix, dict):
            data_prefix = {self.PREFIX_KEY: data_prefix or ''}
        elif len(data_prefix) != 1:
            raise ValueError(f'data_prefix must be one directory, got {data_prefix}')
        pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(ann_file=ann_file, metainfo=metainfo, data_root=data_root,
                         data_prefix=data_prefix, pipeline=pipeline, test_mode=test_mode,
                         indices=indices, serialize_data=serialize_data, lazy_init=lazy_init,
                         max_refetch=max_refetch)

    # ------------------------------------------------------------------ annotations
    @property
    def prefix(self) -> str:
        return next(iter(self.data_prefix.values())) or ''

    def _class_names(self) -> Optional[Tuple[str, ...]]:
        if self.label_file is None:
            return None
        names = tuple(line.strip() for line in get_text(self.label_file).splitlines()
                      if line.strip())
        if self.num_classes is not None and len(names) != self.num_classes:
            raise AnnotationError(f'{self.label_file} names {len(names)} classes but '
                                  f'num_classes={self.num_classes}')
        return names

    def _lines(self) -> Iterator[Tuple[str, str]]:
        """(``file:line`` location, stripped text) of each non-empty line."""
        for number, line in enumerate(get_text(self.ann_file).splitlines(), 1):
            if line.strip():
                yield f'{self.ann_file}:{number}', line.strip()

    def split_fields(self, where: str, line: str, num_leading: int) -> List[str]:
        """A path (which may contain spaces) followed by ``num_leading`` more fields, then
        the label(s): single-label lines are split from the right."""
        if self.multi_class:
            return line.split()
        fields = line.rsplit(maxsplit=num_leading + 1)
        tail = fields[0].split()
        if len(tail) > 1 and tail[-1].lstrip('-').isdigit():
            # 'a.mp4 3 7': more numbers than the layout has, not a path with a space
            raise AnnotationError(f'{where}: {line!r} has more fields than expected '
                                  '(several labels need multi_class=True; frame offsets need '
                                  'with_offset=True)')
        return fields

    def _json_items(self) -> Iterator[Tuple[str, dict]]:
        import json
        items = json.loads(get_text(self.ann_file))
        if not isinstance(items, list):
            raise AnnotationError(f'{self.ann_file}: expected a JSON list of samples, got '
                                  f'{type(items).__name__}')
        for i, item in enumerate(items):
            yield f'{self.ann_file}[{i}]', item

    def _label(self, where: str, tokens: Sequence, num_classes: Optional[int]) -> Label:
        if not tokens:
            raise AnnotationError(f'{where}: no label')
        if len(tokens) > 1 and not self.multi_class:
            raise AnnotationError(f'{where}: {len(tokens)} labels {list(tokens)} but '
                                  'multi_class=False; expected one label per sample')
        labels = []
        for token in tokens:
            try:
                label = int(token)
                if isinstance(token, float) and label != token:
                    raise ValueError
            except (TypeError, ValueError):
                raise AnnotationError(f'{where}: label {token!r} is not an integer') from None
            if label < 0:
                raise AnnotationError(f'{where}: label {label} is negative')
            if num_classes is not None and label >= num_classes:
                raise AnnotationError(f'{where}: label {label} is out of range for '
                                      f'num_classes={num_classes} (labels are 0..'
                                      f'{num_classes - 1}); check num_classes of the dataset '
                                      'and model.cls_head.num_classes')
            labels.append(label)
        return labels if self.multi_class else labels[0]

    def parse_line(self, where: str, line: str, num_classes: Optional[int]) -> dict:
        """One record from a line of the text annotation."""
        raise NotImplementedError

    def parse_json(self, where: str, item: dict, num_classes: Optional[int]) -> dict:
        """One record from an item of a JSON list."""
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        names = self._class_names()
        if names is not None:
            self._metainfo['classes'] = names
        num_classes = self.num_classes if self.num_classes is not None else \
            (len(names) if names is not None else None)
        if '://' not in str(self.ann_file) and not osp.isfile(self.ann_file):
            raise FileNotFoundError(missing_annotation_message(self.ann_file,
                                                               data_prefix=self.prefix))
        is_json = self.ann_file.endswith('.json')
        records, errors = [], []
        for where, entry in (self._json_items() if is_json else self._lines()):
            try:
                records.append(self.parse_json(where, entry, num_classes) if is_json else
                               self.parse_line(where, entry, num_classes))
            except AnnotationError as err:
                errors.append(str(err))
        if errors:
            shown = '\n  '.join(errors[:10])
            more = f'\n  ... and {len(errors) - 10} more' if len(errors) > 10 else ''
            raise AnnotationError(f'{len(errors)} malformed entries in {self.ann_file}:\n  '
                                  f'{shown}{more}')
        if not records:
            raise AnnotationError(f'{self.ann_file} lists no samples')
        self._metainfo[DATA_LIST_KEY] = self._data_list(records)
        return records

    def _data_list(self, records: List[dict]) -> DataList:
        """The list's provenance; for evaluation data, missing videos are counted (one
        ``exists`` per record) and the first ones logged."""
        found, missing = None, []
        paths = [r.get('filename', r.get('frame_dir')) for r in records]
        if self.test_mode and '://' not in str(paths[0]):  # remote storage: not counted
            missing = [p for p in paths if not osp.exists(p)]
            found = len(paths) - len(missing)
        data_list = DataList(ann_file=str(self.ann_file), listed=len(records), found=found,
                             sha256=hashlib.sha256(get(self.ann_file)).hexdigest())
        if missing:
            listed = '\n  '.join(missing[:10])
            more = f'\n  ... and {len(missing) - 10} more' if len(missing) > 10 else ''
            print_log(f'{len(missing)} of the {len(paths)} videos of {describe(data_list)} do '
                      f'not exist under data_prefix={self.prefix!r}; they will count as '
                      f'unreadable:\n  {listed}{more}', logger='current', level=logging.WARNING)
        elif found is not None:
            print_log(f'Evaluation data: {describe(data_list)}', logger='current')
        return data_list

    def _join(self, path: str) -> str:
        return osp.join(self.prefix, path) if self.prefix else path

    # ------------------------------------------------------------------ samples
    @property
    def sample_fields(self) -> dict:
        """Dataset-wide fields every sample carries into the pipeline."""
        return {}

    def multi_hot(self, label: Optional[Label]):
        """A multi-label sample's labels as the row the model and metrics read (as 0.x):
        float32 (num_classes,), 1 at each label; other labels pass unchanged."""
        if not self.multi_class or label is None:
            return label
        row = np.zeros(self.num_classes, np.float32)
        row[list(label)] = 1
        return row

    def prepare_data(self, idx: int) -> dict:
        results = self.get_data_info(idx)
        if results.get('label') is not None:
            results['label'] = self.multi_hot(results['label'])
        results.update(modality=self.modality, start_index=self.start_index,
                       test_mode=self.test_mode, **self.sample_fields)
        packed = self.pipeline(results)
        if not isinstance(packed, dict) or 'data_samples' not in packed:
            raise TypeError('the pipeline must end by packing the sample: PackActionInputs, or '
                            "AIM's Collect(keys=['imgs', 'label']) + ToTensor")
        return packed

    def __getitem__(self, idx: Union[int, SeededIndex]) -> dict:
        """The packed sample ``idx``. A :class:`~mmaction.datasets.sampler.SeededIndex` (from
        the training sampler) first reseeds ``random`` and ``numpy``, which the transforms
        draw from, so the sample's augmentations depend on that seed only."""
        if not self._fully_initialized:
            self.full_init()
        if isinstance(idx, SeededIndex):
            random.seed(idx.seed)
            np.random.seed(idx.seed)
            idx = int(idx)
        try:
            return self.prepare_data(idx)
        except VideoDecodeError as err:
            if self.test_mode:
                return self._decode_failed_sample(idx, err)
            return self._substitute(idx, err)

    def _substitute(self, idx: int, first: VideoDecodeError) -> dict:
        errors = [first]
        for _ in range(self.max_refetch):
            other = idx
            if len(self) > 1:  # uniform over every index but idx
                other = int(np.random.randint(0, len(self) - 1))
                other += other >= idx
            try:
                packed = self.prepare_data(other)
            except VideoDecodeError as err:
                errors.append(err)
                continue
            packed['data_samples'].set_substitutions(
                [VideoIssue(filename=e.filename, error=e.reason) for e in errors])
            return packed
        listed = '\n  '.join(str(e) for e in errors[:10])
        raise RuntimeError(f'{len(errors)} videos in a row could not be read (the dataset has '
                           f'{len(self)}); is data_prefix={self.prefix!r} right?\n  {listed}')

    def _decode_failed_sample(self, idx: int, err: VideoDecodeError) -> dict:
        print_log(f'Unreadable video {err.filename}: {err.reason}. It is left out of the '
                  'evaluation and reported by the metric.', logger='current',
                  level=logging.WARNING)
        packed = None
        for step in range(1, min(len(self), self.max_refetch + 1)):
            try:  # borrow the inputs of the next readable video, so the batch keeps its shape
                packed = self.prepare_data((idx + step) % len(self))
                break
            except VideoDecodeError:
                continue
        if packed is None:
            raise RuntimeError(f'{err.filename} cannot be read ({err.reason}) and no other '
                               f'video of {self.ann_file} can stand in for its inputs')
        info = self.get_data_info(idx)
        sample = ActionDataSample().set_decode_failure(
            info.get('filename', info.get('frame_dir')), err.reason)
        if 'frame_dir' in info:
            sample.set_metainfo(dict(frame_dir=info['frame_dir']))
        if info.get('label') is not None:
            sample.set_gt_label(self.multi_hot(info['label']))
        return dict(inputs=packed['inputs'], data_samples=sample)
