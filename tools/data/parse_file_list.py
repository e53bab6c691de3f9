"""Readers of the official annotation files: (video id, label) pairs per split.

Each ``parse_*`` function returns ``{'train': [(video_id, label), ...], 'val': [...], ...}``.
A video id is the path of the video relative to the dataset's video (or frame) folder,
without extension: ``build_file_list.py`` matches it against the files it finds there.

- Kinetics-400/600/700: ``kinetics_{train,val,test}.csv`` with a header naming the columns
  ``label,youtube_id,time_start,time_end,...``. Ids are ``{youtube_id}_{start:06d}_{end:06d}``
  (under ``{class_name}/`` for level 2, spaces in class names written as ``_``). Class indices
  follow the sorted class names of the training csv (as mmaction2, so released checkpoints
  keep their class order).
- Something-Something v2: the labels package (``labels.json``, ``train.json``,
  ``validation.json``, ``test.json``), under its own names or renamed
  ``something-something-v2-*.json`` as mmaction2's guide does. A sample's class is its
  ``template`` with the brackets removed, looked up in ``labels.json``. ``test.json`` has no
  labels.
- Diving-48 (V2): ``Diving48_V2_train.json`` and ``Diving48_V2_test.json`` (the test split is
  the ``val`` subset of the configs), items ``{'vid_name', 'label', ...}``.
"""
import csv
import json
import os.path as osp
from typing import Dict, List, Tuple

Split = List[Tuple[str, int]]


def _kinetics_class_name(name: str) -> str:
    return name.replace('"', '').replace(' ', '_')


def parse_kinetics_splits(ann_dir: str, level: int = 2) -> Dict[str, Split]:
    """Kinetics csv files in ``ann_dir`` -> {'train', 'val'[, 'test']} splits."""
    if level not in (1, 2):
        raise ValueError(f'level must be 1 or 2, got {level}')
    files = {subset: osp.join(ann_dir, f'kinetics_{subset}.csv')
             for subset in ('train', 'val', 'test')}
    if not osp.isfile(files['train']):
        raise FileNotFoundError(f"{files['train']} not found: the class order is taken from "
                                'the training csv')

    def rows(path: str) -> List[dict]:
        with open(path, newline='') as f:
            reader = csv.DictReader(f)
            missing = {'youtube_id', 'time_start', 'time_end'} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f'{path}: columns {sorted(missing)} missing; found '
                                 f'{reader.fieldnames}')
            return list(reader)

    train_rows = rows(files['train'])
    classes = sorted({_kinetics_class_name(r['label']) for r in train_rows})
    index = {name: i for i, name in enumerate(classes)}
    splits: Dict[str, Split] = {}
    for subset, path in files.items():
        if not osp.isfile(path):
            continue
        items = []
        for line, row in enumerate(train_rows if subset == 'train' else rows(path), 2):
            if row.get('label') is None:
                raise ValueError(f'{path} has no label column; this split cannot be listed '
                                 'for training or evaluation')
            name = _kinetics_class_name(row['label'])
            if name not in index:
                raise ValueError(f'{path}:{line}: class {row["label"]!r} does not occur in '
                                 f"{files['train']}")
            video = (f"{row['youtube_id']}_{int(float(row['time_start'])):06d}_"
                     f"{int(float(row['time_end'])):06d}")
            items.append((f'{name}/{video}' if level == 2 else video, index[name]))
        splits[subset] = items
    return splits


def _first_existing(paths: List[str]) -> str:
    for path in paths:
        if osp.isfile(path):
            return path
    raise FileNotFoundError('none of these exist: ' + ', '.join(paths))


def parse_sthv2_splits(ann_dir: str) -> Dict[str, Split]:
    """Something-Something v2 json files in ``ann_dir`` -> {'train', 'val'} splits."""

    def find(part: str) -> str:
        return _first_existing([
            osp.join(ann_dir, f'something-something-v2-{part}.json'),
            osp.join(ann_dir, f'{part}.json'),
            osp.join(ann_dir, 'labels', f'{part}.json'),
        ])

    labels_file = find('labels')
    with open(labels_file) as f:
        class_index = {name: int(i) for name, i in json.load(f).items()}

    def read(part: str) -> Split:
        path = find(part)
        with open(path) as f:
            items = json.load(f)
        out = []
        for i, item in enumerate(items):
            template = item['template'].replace('[', '').replace(']', '')
            if template not in class_index:
                raise ValueError(f'{path}[{i}]: template {item["template"]!r} is not a class '
                                 f'of {labels_file}')
            out.append((str(item['id']), class_index[template]))
        return out

    return {'train': read('train'), 'val': read('validation')}


def parse_diving48_splits(ann_dir: str) -> Dict[str, Split]:
    """Diving-48 V2 json files in ``ann_dir`` -> {'train', 'val'} splits."""

    def read(name: str) -> Split:
        path = osp.join(ann_dir, name)
        with open(path) as f:
            return [(item['vid_name'], int(item['label'])) for item in json.load(f)]

    return {'train': read('Diving48_V2_train.json'), 'val': read('Diving48_V2_test.json')}


PARSERS = {
    'kinetics400': parse_kinetics_splits,
    'kinetics600': parse_kinetics_splits,
    'kinetics700': parse_kinetics_splits,
    'sthv2': parse_sthv2_splits,
    'diving48': parse_diving48_splits,
}
