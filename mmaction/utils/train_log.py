"""Read the scalars a training run logged, whichever file holds them.

Accepted sources:

* ``work_dir/<timestamp>/vis_data/scalars.json``, the JSON lines mmengine's ``LoggerHook``
  writes: training records carry ``epoch``, ``iter`` (counted over the whole run) and the
  smoothed scalars (``loss``, ``top1_acc`` of the batch, ``lr``, ``time`` ...); validation
  records carry the metrics and ``step`` (the epoch, or the iteration in iteration-based
  runs);
* a work dir or a ``<timestamp>`` folder: every ``vis_data/scalars.json`` under it, oldest
  first, so that a resumed run reads as one curve (a later record of the same iteration or
  epoch replaces the earlier one); the text logs when there is no ``scalars.json``;
* the text log ``<timestamp>.log`` (mmengine's ``Epoch(train) [e][i/N] key: value`` lines,
  and mmcv 1.x's ``Epoch [e][i/N] key: value, ...``: the original AIM code's logs). In
  iteration-based runs a validation line (``Iter(val) [i/N]`` counts validation batches) is
  filed under the last training iteration logged before it;
* mmcv 1.x's ``*.log.json`` (records with ``"mode": "train"|"val"``). These count ``iter``
  within the epoch and do not record the epoch's length: the length is taken as the largest
  ``iter`` logged in an epoch, so iterations can be short by less than one logging interval.
"""
import glob
import json
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

#: keys a record carries for bookkeeping, not as scalars to plot
POSITION_KEYS = ('epoch', 'iter', 'step', 'mode')
#: in both training and validation records but about training unless asked as ``val/KEY``
TRAIN_FIRST = ('time', 'data_time', 'memory')


@dataclass
class TrainingLog:
    """The scalars of one run.

    Attributes:
        source: the path it was read from.
        name: a short name for legends (the work dir's name, or the file's).
        train: training records in iteration order, each with ``iter`` (over the run) and,
            in epoch-based runs, ``epoch``.
        val: validation records in order, each with ``epoch`` (epoch-based runs) or
            ``iter``.
    """
    source: str
    name: str
    train: List[dict] = field(default_factory=list)
    val: List[dict] = field(default_factory=list)

    @property
    def val_axis(self) -> str:
        """``'epoch'`` when validation happens per epoch, else ``'iter'``."""
        return 'epoch' if all('epoch' in r for r in self.val) else 'iter'

    def keys(self, phase: str) -> List[str]:
        records = self.train if phase == 'train' else self.val
        return sorted({k for r in records for k in r if k not in POSITION_KEYS})

    def resolve(self, key: str) -> Tuple[str, str]:
        """``(phase, scalar)`` of a requested key: ``train/KEY`` or ``val/KEY`` explicitly;
        a bare key is the validation metric when validation logged it (``top1_acc`` is also
        the training batch's accuracy: ``train/top1_acc``), except timings, which are
        training's; otherwise the training scalar. An unknown key raises ``KeyError``
        listing the keys the log has."""
        phase, _, name = key.rpartition('/')
        if phase and phase not in ('train', 'val'):
            raise KeyError(f'{key!r}: the prefix must be train/ or val/')
        train_keys, val_keys = self.keys('train'), self.keys('val')
        if not phase:
            if name in val_keys and (name not in TRAIN_FIRST or name not in train_keys):
                phase = 'val'
            elif name in train_keys:
                phase = 'train'
        if phase and name in (train_keys if phase == 'train' else val_keys):
            return phase, name
        raise KeyError(f'{key!r} is not in {self.source}. It has training keys {train_keys} '
                       f'and validation keys {val_keys} (write val/KEY or train/KEY to choose '
                       'when a key is in both).')

    def series(self, key: str) -> Tuple[str, List[float], List[float]]:
        """``(x axis name, xs, ys)`` of a key (see :meth:`resolve`)."""
        phase, name = self.resolve(key)
        if phase == 'train':
            axis, records = 'iter', self.train
        else:
            axis, records = self.val_axis, self.val
        points = [(r[axis], r[name]) for r in records if name in r and axis in r]
        return axis, [float(x) for x, _ in points], [float(y) for _, y in points]


# ---------------------------------------------------------------------------- JSON lines
def _json_records(path: str) -> List[dict]:
    records = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{number}: not a JSON line ({err.msg}); expected the '
                                 'scalars.json of a run, one JSON object per line') from None
            if isinstance(record, dict):
                records.append(record)
    return records


def _split_json(records: List[dict]) -> Tuple[List[dict], List[dict]]:
    if any('mode' in r for r in records):  # mmcv 1.x
        train = [dict(r) for r in records if r.get('mode') == 'train']
        val = [{k: v for k, v in r.items() if k not in ('mode', 'iter')}
               for r in records if r.get('mode') == 'val']
        epoch_length = max((r['iter'] for r in train if 'iter' in r), default=0)
        for r in train:
            r['iter'] = (r['epoch'] - 1) * epoch_length + r['iter']
            r.pop('mode', None)
        return train, val
    # mmengine: validation records carry ``step`` but no ``iter``
    train = [dict(r) for r in records if 'iter' in r]
    by_epoch = any('epoch' in r for r in train) or not train
    val = []
    for r in records:
        if 'iter' in r or 'step' not in r:
            continue
        rec = {k: v for k, v in r.items() if k != 'step'}
        rec['epoch' if by_epoch else 'iter'] = r['step']
        val.append(rec)
    for r in train:
        r.pop('step', None)
    return train, val


# ---------------------------------------------------------------------------- text logs
_LINE = re.compile(r'(?:Epoch(?:\((?P<mode>train|val)\))?\s*\[\s*(?P<epoch>\d+)\s*\]|'
                   r'Iter(?:\((?P<imode>train|val)\))?)'
                   r'\s*\[\s*(?P<i>\d+)\s*(?:/\s*(?P<n>\d+))?\s*\]\s*(?P<rest>.*)')
_PAIR = re.compile(r'([A-Za-z_][\w/.\-]*):\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)'
                   r'(?=[\s,]|$)')


def _text_records(path: str) -> Tuple[List[dict], List[dict]]:
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    with open(path, errors='replace') as f:
        for line in f:
            match = _LINE.search(line)
            if not match:
                continue
            mode = match.group('mode') or match.group('imode') or 'train'
            values = {k: float(v) for k, v in _PAIR.findall(match.group('rest'))
                      if k != 'eta'}
            if not values:
                continue
            if match.group('epoch') is None:  # iteration-based: Iter(train) [i/N]
                if mode == 'train':
                    step = int(match.group('i'))
                    train[step] = dict(values, iter=step)
                else:  # Iter(val) [i/N] counts validation batches: file it under the
                    step = max(train, default=0)  # last training iteration logged before
                    val.setdefault(step, {'iter': step}).update(values)
                continue
            epoch, i = int(match.group('epoch')), int(match.group('i'))
            if mode == 'val':
                val.setdefault(epoch, {'epoch': epoch}).update(values)
            elif match.group('n') is None:
                raise ValueError(f'{path}: {line.strip()[:80]!r} does not say the epoch '
                                 'length ([i/N]); read the .log.json or scalars.json instead')
            else:
                step = (epoch - 1) * int(match.group('n')) + i
                train[step] = dict(values, epoch=epoch, iter=step)
    return [train[k] for k in sorted(train)], [val[k] for k in sorted(val)]


# ---------------------------------------------------------------------------- entry point
def _merge(parts: List[Tuple[List[dict], List[dict]]], val_key: str):
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    for part_train, part_val in parts:  # oldest first: a resumed run overrides
        train.update({r['iter']: r for r in part_train})
        val.update({r.get(val_key, r.get('iter')): r for r in part_val})
    return [train[k] for k in sorted(train)], [val[k] for k in sorted(val)]


def _name_of(path: str) -> str:
    path = osp.normpath(path)
    parts = path.split(osp.sep)
    if parts[-1] == 'scalars.json' and len(parts) >= 4 and parts[-2] == 'vis_data':
        return parts[-4]  # work_dir/<timestamp>/vis_data/scalars.json -> work_dir's name
    name = osp.basename(path)
    for suffix in ('.log.json', '.json', '.log'):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
            break
    if len(parts) >= 3 and name == parts[-2]:
        return parts[-3]  # work_dir/<timestamp>/<timestamp>.log -> work_dir's name
    return name


def read_training_log(path: str, name: Optional[str] = None) -> TrainingLog:
    """The scalars of the run at ``path`` (see the module docstring for what it may be)."""
    if osp.isdir(path):
        files = sorted(glob.glob(osp.join(path, 'vis_data', 'scalars.json'))
                       + glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
        if not files:
            files = sorted(glob.glob(osp.join(path, '*.log'))
                           + glob.glob(osp.join(path, '*', '*.log')))
        if not files:
            raise FileNotFoundError(
                f'{path} holds no training log: expected <timestamp>/vis_data/scalars.json or '
                '<timestamp>/<timestamp>.log (the work dir of tools/train.py)')
        parts = [_read_file(f) for f in files]
        by_epoch = all('epoch' in r for p in parts for r in p[0]) if parts else True
        train, val = _merge(parts, 'epoch' if by_epoch else 'iter')
        return TrainingLog(path, name or osp.basename(osp.normpath(path)), train, val)
    if not osp.isfile(path):
        raise FileNotFoundError(f'training log {path} does not exist')
    train, val = _read_file(path)
    return TrainingLog(path, name or _name_of(path), train, val)


def _read_file(path: str) -> Tuple[List[dict], List[dict]]:
    if path.endswith('.json'):
        train, val = _split_json(_json_records(path))
    else:
        train, val = _text_records(path)
    if not train and not val:
        raise ValueError(f'{path} holds no training or validation scalars (is it the log of '
                         'a run that did not reach its first logging interval?)')
    return train, val
