"""Readers of the official annotation files: (video id, label) pairs per split.

Each ``parse_*`` function returns ``{'train': [(video_id, label), ...], 'val': [...], ...}``.
A video id is the path of the video relative to the dataset's video (or frame) folder,
without extension: ``build_file_list.py`` matches it against the files it finds there.

- Kinetics-400/600/700: ``{train,val,test}.csv`` with a header naming the columns
  ``label,youtube_id,time_start,time_end,...``, under the names of the CVDF download
  (``train.csv``, ``val.csv``, ``test.csv``), of DeepMind's archive (``validate.csv`` for
  val) or renamed ``kinetics_{train,val,test}.csv`` as mmaction2's guide does. Ids are
  ``{youtube_id}_{start:06d}_{end:06d}`` (under ``{class_name}/`` for level 2, spaces in
  class names written as ``_``). Class indices
  follow the sorted class names of the training csv (as mmaction2, so released checkpoints
  keep their class order).
- Something-Something v2: the labels package (``labels.json``, ``train.json``,
  ``validation.json``, ``test.json``), under its own names or renamed
  ``something-something-v2-*.json`` as mmaction2's guide does. A sample's class is its
  ``template`` with the brackets removed, looked up in ``labels.json``. ``test.json`` has no
  labels.
- Diving-48 (V2): ``Diving48_V2_train.json`` and ``Diving48_V2_test.json`` (the test split is
  the ``val`` subset of the configs), items ``{'vid_name', 'label', ...}``.
- UCF101: ``classInd.txt`` (``1 ApplyEyeMakeup``: 1-based), ``trainlist0N.txt``
  (``CLASS/v_CLASS_g08_c01.avi 1``) and ``testlist0N.txt`` (``CLASS/v_CLASS_g01_c01.avi``, no
  label) of the official split package, directly in ``ann_dir`` or under its
  ``ucfTrainTestlist/``. Subsets ``train``/``val`` of split N (``--split``, default 1); the
  label is looked up from the class folder in ``classInd.txt``, made 0-based.
- HMDB51: ``CLASS_test_splitN.txt`` of the official ``testTrainMulti_7030_splits`` package
  (lines ``VIDEO.avi 1``: 1 training, 2 testing, 0 unused), directly in ``ann_dir`` or under
  ``testTrainMulti_7030_splits/``. Class indices follow the sorted class names (as mmaction2);
  ids are ``CLASS/VIDEO``.
"""
import csv
import glob
import json
import os.path as osp
import re
from typing import Dict, List, Tuple

Split = List[Tuple[str, int]]


def _kinetics_class_name(name: str) -> str:
    return name.replace('"', '').replace(' ', '_')


def parse_kinetics_splits(ann_dir: str, level: int = 2) -> Dict[str, Split]:
    """Kinetics csv files in ``ann_dir`` -> {'train', 'val'[, 'test']} splits."""
    if level not in (1, 2):
        raise ValueError(f'level must be 1 or 2, got {level}')
    names = {'train': ['train'], 'val': ['val', 'validate'], 'test': ['test']}
    files = {}
    for subset, stems in names.items():
        candidates = [osp.join(ann_dir, f'{prefix}{stem}.csv')
                      for prefix in ('kinetics_', '') for stem in stems]
        found = [path for path in candidates if osp.isfile(path)]
        if found:
            files[subset] = found[0]
        elif subset == 'train':
            raise FileNotFoundError(f'none of {", ".join(candidates)} exists: the class order '
                                    'is taken from the training csv')

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


def _split_file(ann_dir: str, sub: str, name: str) -> str:
    return _first_existing([osp.join(ann_dir, name), osp.join(ann_dir, sub, name)])


def parse_ucf101_splits(ann_dir: str, split: int = 1) -> Dict[str, Split]:
    """UCF101's official split files in ``ann_dir`` -> {'train', 'val'} of split ``split``."""
    class_file = _split_file(ann_dir, 'ucfTrainTestlist', 'classInd.txt')
    index = {}
    with open(class_file) as f:
        for line, text in enumerate(f, 1):
            if text.strip():
                number, name = text.split()
                index[name] = int(number) - 1
    out = {}
    for subset, stem in (('train', 'trainlist'), ('val', 'testlist')):
        path = _split_file(ann_dir, 'ucfTrainTestlist', f'{stem}{split:02d}.txt')
        items = []
        with open(path) as f:
            for line, text in enumerate(f, 1):
                if not text.strip():
                    continue
                rel = text.split()[0]
                name = osp.dirname(rel)
                if name not in index:
                    raise ValueError(f'{path}:{line}: class folder {name!r} is not in '
                                     f'{class_file}')
                items.append((osp.splitext(rel)[0], index[name]))
        out[subset] = items
    return out


def parse_hmdb51_splits(ann_dir: str, split: int = 1) -> Dict[str, Split]:
    """HMDB51's official ``CLASS_test_splitN.txt`` files in ``ann_dir`` -> {'train', 'val'}
    of split ``split`` (1 marks training videos, 2 testing ones, 0 unused)."""
    pattern = f'*_test_split{split}.txt'
    paths = sorted(glob.glob(osp.join(ann_dir, pattern)) or
                   glob.glob(osp.join(ann_dir, 'testTrainMulti_7030_splits', pattern)))
    if not paths:
        raise FileNotFoundError(f'no {pattern} in {ann_dir} (or its '
                                'testTrainMulti_7030_splits/): unpack test_train_splits.rar there')
    by_class = {re.sub(rf'_test_split{split}\.txt$', '', osp.basename(p)): p for p in paths}
    out: Dict[str, Split] = {'train': [], 'val': []}
    for label, name in enumerate(sorted(by_class)):
        path = by_class[name]
        with open(path) as f:
            for line, text in enumerate(f, 1):
                if not text.strip():
                    continue
                video, mark = text.split()
                if mark not in ('0', '1', '2'):
                    raise ValueError(f'{path}:{line}: expected VIDEO 0|1|2, got {text.strip()!r}')
                if mark != '0':
                    subset = 'train' if mark == '1' else 'val'
                    out[subset].append((f'{name}/{osp.splitext(video)[0]}', label))
    return out


PARSERS = {
    'kinetics400': parse_kinetics_splits,
    'kinetics600': parse_kinetics_splits,
    'kinetics700': parse_kinetics_splits,
    'sthv2': parse_sthv2_splits,
    'diving48': parse_diving48_splits,
    'ucf101': parse_ucf101_splits,
    'hmdb51': parse_hmdb51_splits,
}
