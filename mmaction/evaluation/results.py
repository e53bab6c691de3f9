"""The per-video results files of ``tools/test.py``, read back: ``--out`` (one score array per
annotation line, NaN for a video that could not be decoded, as mmaction2 0.x wrote it) and
``--dump`` (records with ``filename``, ``gt_label``, ``pred_score``, ``decode_failed``), and
the provenance sidecar ``<file>.meta.json`` that :class:`DumpResults` writes beside either
(which annotation list, by path and sha256, the results are of).

What the tools that rescore or fuse saved results share (``tools/analysis/eval_metric.py``,
``report_accuracy.py``, ``confusion_matrix.py``): a loader that runs no code from the file,
and the checks that two sets of results, or results and a list, are of the same videos in
the same order.
"""
import hashlib
import json
import os.path as osp
import pickle
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from mmaction.utils.cli import user_error


@user_error
class ResultsError(ValueError):
    """Results files that cannot be what the command needs (another list, another order,
    another number of classes); the message says which files disagree and how."""


class _NumpyUnpickler(pickle.Unpickler):
    """Unpickles lists, dicts, numbers, strings and numpy arrays, nothing else: results
    files get passed around, and a pickle may otherwise run any code."""
    ALLOWED = {('numpy', 'ndarray'), ('numpy', 'dtype'),
               ('numpy.core.multiarray', '_reconstruct'), ('numpy.core.multiarray', 'scalar'),
               ('numpy._core.multiarray', '_reconstruct'), ('numpy._core.multiarray', 'scalar')}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'{module}.{name} is not allowed in a results file')


def load_results(path: str):
    """The content of a ``.pkl``/``.pickle``/``.json`` results file, unpickled without running
    anything but numpy's array constructors."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'results file {path} does not exist')
    if path.endswith('.json'):
        with open(path) as f:
            return json.load(f)
    if path.endswith(('.pkl', '.pickle')):
        with open(path, 'rb') as f:
            try:
                return _NumpyUnpickler(f).load()
            except pickle.UnpicklingError as err:
                raise ResultsError(f'{path} is not a results file of tools/test.py ({err})') \
                    from None
    raise ResultsError(f'{path}: expected a .pkl, .pickle or .json written by tools/test.py '
                       '--out (or --dump)')


def meta_path(results_file: str) -> str:
    """Where :class:`DumpResults` puts the provenance of ``results_file``."""
    return f'{results_file}.meta.json'


def file_sha256(path: str) -> str:
    """sha256 of a file's bytes, as datasets record their annotation list's."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class SavedScores:
    """The class scores of a ``tools/test.py`` results file, one entry per video in the order
    of the annotation list the test ran on.

    Attributes:
        path: the file.
        scores: (N, K) float64, each video's scores averaged over its views when the file
            has them per view (``average_clips=None``), as the accuracy metric averages them;
            NaN rows for the videos that could not be decoded.
        failed: (N,) bool, the videos that could not be decoded.
        names: each video's file name (``--dump`` records), else ``None``.
        labels: each video's label as recorded (``--dump`` records), else ``None``.
        meta: the sidecar ``<path>.meta.json`` (see :class:`DumpResults`), or ``None`` when
            the file has none (written by mmaction2 0.x or before the sidecar existed).
    """
    path: str
    scores: np.ndarray
    failed: np.ndarray
    names: Optional[List[str]] = None
    labels: Optional[list] = None
    meta: Optional[dict] = None

    @property
    def num_classes(self) -> int:
        return self.scores.shape[1]

    @property
    def data(self) -> dict:
        """The sidecar's record of the annotation list (``ann_file``, ``sha256``, ``listed``,
        ...), empty without a sidecar."""
        return dict((self.meta or {}).get('data') or {})

    def source(self) -> str:
        """Which list the results are of, in words."""
        data = self.data
        if not data.get('sha256'):
            return (f'{self.path}: {len(self.scores)} videos of an unrecorded list (no '
                    f'{osp.basename(meta_path(self.path))} beside it)')
        return (f"{self.path}: {len(self.scores)} videos of {data['ann_file']} (sha256 "
                f"{data['sha256'][:12]}...), {int(self.failed.sum())} could not be decoded")


def _video_score(score, where: str) -> np.ndarray:
    score = np.asarray(score, dtype=np.float64)
    if score.ndim == 2:  # per-view scores (test_cfg.average_clips=None)
        score = score.mean(axis=0)
    if score.ndim != 1:
        raise ResultsError(f'{where}: expected a score vector (num_classes,) or per-view '
                           f'scores (views, num_classes), got shape {score.shape}')
    return score


def _read_meta(path: str, count: int) -> Optional[dict]:
    sidecar = meta_path(path)
    if not osp.isfile(sidecar):
        return None
    with open(sidecar) as f:
        try:
            meta = json.load(f)
        except json.JSONDecodeError as err:
            raise ResultsError(f'{sidecar} is not valid JSON ({err}); it should be the '
                               f'provenance tools/test.py wrote with {path}') from None
    evaluated = (meta.get('data') or {}).get('evaluated')
    if evaluated is not None and evaluated != count:
        raise ResultsError(f'{sidecar} records {evaluated} videos but {path} has {count}: the '
                           'sidecar is of another run. Delete it (the results are then taken '
                           'as of an unknown list) or put the right one beside the file.')
    return meta


def read_scores(path: str) -> SavedScores:
    """The scores of a ``tools/test.py --out`` or ``--dump`` file and its sidecar, if any."""
    items = load_results(path)
    if not isinstance(items, list) or not items:
        raise ResultsError(f'{path}: expected a non-empty list (tools/test.py --out or '
                           f'--dump), got {type(items).__name__}'
                           + (' of length 0' if isinstance(items, list) else ''))
    records = isinstance(items[0], dict)
    rows, failed, names, labels = [], [], [], []
    for i, item in enumerate(items):
        where = f'{path}[{i}]'
        if records:
            if not isinstance(item, dict) or item.get('pred_score') is None:
                raise ResultsError(f'{where}: expected a --dump record with pred_score, got '
                                   f'{type(item).__name__}')
            names.append(item.get('filename'))
            labels.append(item.get('gt_label'))
            score = _video_score(item['pred_score'], where)
            bad = bool(item.get('decode_failed')) or bool(np.isnan(score).any())
        else:
            score = _video_score(item, where)
            bad = bool(np.isnan(score).any())
        rows.append(score)
        failed.append(bad)
    sizes = sorted({len(r) for r in rows})
    if len(sizes) > 1:
        raise ResultsError(f'{path}: score vectors of different lengths {sizes}; a results file '
                           'holds the scores of one model over its classes')
    scores = np.stack(rows)
    failed = np.asarray(failed)
    scores[failed] = np.nan
    return SavedScores(path, scores, failed, names if records else None,
                       labels if records else None, _read_meta(path, len(items)))


def _basename(name) -> str:
    return osp.basename(str(name).rstrip('/'))


def first_difference(a: Sequence, b: Sequence) -> Optional[int]:
    """The first index where two equally long sequences of file names differ by their base
    names (the data root may differ between machines), or ``None``."""
    for i, (x, y) in enumerate(zip(a, b)):
        if _basename(x) != _basename(y):
            return i
    return None


FORCE_HINT = ('If they are the same videos in the same order all the same (e.g. the RGB and '
              'the flow list of one split), add --force.')


def check_same_videos(results: Sequence[SavedScores], force: bool = False) -> List[str]:
    """Refuse results files that are not of the same videos in the same order: other
    lengths or numbers of classes always; other annotation lists (the sidecars' sha256) or
    other file names at a position (``--dump`` records) unless ``force``. Returns what was
    forced, as notes to print."""
    first, notes = results[0], []
    for other in results[1:]:
        if len(other.scores) != len(first.scores):
            raise ResultsError(
                f'{first.path} has {len(first.scores)} videos but {other.path} has '
                f'{len(other.scores)}: fused scores must be of the same videos, one entry per '
                'line of the same annotation list')
        if other.num_classes != first.num_classes:
            raise ResultsError(
                f'{first.path} scores {first.num_classes} classes but {other.path} scores '
                f'{other.num_classes}: fused models must predict the same classes')
        a, b = first.data.get('sha256'), other.data.get('sha256')
        if a and b and a != b:
            problem = (f"{first.path} is of {first.data.get('ann_file')} (sha256 {a[:12]}...) "
                       f"but {other.path} of {other.data.get('ann_file')} (sha256 "
                       f'{b[:12]}...): other lists, so possibly other videos or another order')
            if not force:
                raise ResultsError(f'{problem}. {FORCE_HINT}')
            notes.append(f'--force: {problem}')
        if first.names is not None and other.names is not None:
            i = first_difference(first.names, other.names)
            if i is not None:
                problem = (f'video {i} is {first.names[i]} in {first.path} but '
                           f'{other.names[i]} in {other.path}: the files list the videos in '
                           'another order')
                if not force:
                    raise ResultsError(f'{problem}. {FORCE_HINT}')
                notes.append(f'--force: {problem}')
    return notes


def check_list(results: SavedScores, ann_file: str, listed: int,
               sha256: Optional[str] = None, names: Optional[Sequence[str]] = None,
               labels: Optional[Sequence] = None, force: bool = False,
               how: str = 'give the list the test ran on') -> List[str]:
    """Refuse ``results`` as the results of the annotation list ``ann_file`` (``listed``
    samples, its ``sha256``, each sample's file name and label, where known) when they are
    not: another count always; unless ``force``, another list by the sidecar's sha256, or
    (``--dump`` records) another file name or label at a position. ``how``: how the command
    is given the right list, for the message. Returns the forced problems, as notes."""
    if len(results.scores) != listed:
        raise ResultsError(
            f'{results.path} has {len(results.scores)} results but {ann_file} lists {listed} '
            'samples; a --out file has one entry per line of the annotation list the test ran '
            f'on: {how}.')
    notes = []

    def refuse(problem):
        if not force:
            raise ResultsError(f'{problem}. {how[0].upper()}{how[1:]}, or add --force if '
                               'this list has the same samples in the same order.')
        notes.append(f'--force: {problem}')

    recorded = results.data.get('sha256')
    if sha256 and recorded and recorded != sha256:
        refuse(f"{results.path} is of {results.data.get('ann_file')} (sha256 "
               f'{recorded[:12]}..., {results.data.get("listed")} listed) but {ann_file} has '
               f'sha256 {sha256[:12]}...')
    if names is not None and results.names is not None:
        i = first_difference(results.names, names)
        if i is not None:
            refuse(f'sample {i} of {ann_file} is {names[i]} but {results.path} has '
                   f'{results.names[i]} there')
    if labels is not None and results.labels is not None:
        for i, (mine, theirs) in enumerate(zip(results.labels, labels)):
            if mine is not None and _label_set(mine) != _label_set(theirs):
                refuse(f'sample {i} has label {theirs} in {ann_file} but {mine} in '
                       f'{results.path}')
                break
    return notes


def _label_set(label) -> tuple:
    return tuple(sorted(np.asarray(label).reshape(-1).tolist()))
