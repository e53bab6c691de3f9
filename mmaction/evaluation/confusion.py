"""Confusion matrices of test results (``tools/analysis/confusion_matrix.py``).

Reads what ``tools/test.py`` writes: ``--dump`` records (``filename``, ``gt_label``,
``pred_label``, ``pred_score``, ``decode_failed``) or ``--out`` score arrays (one per
annotation line, NaN for videos that could not be decoded) together with the annotation
file for the labels.
"""
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .results import load_results


@dataclass
class TestResults:
    """Labels and predictions of the videos a test run could decode.

    Attributes:
        gt: true labels (N,).
        pred: predicted labels (N,), the argmax of the (view-averaged) scores.
        num_classes: length of the score vectors (0 when unknown).
        names: the file name of each video (or ``None``).
        failed: file names (or annotation lines) of the videos left out because they could
            not be decoded.
    """
    gt: np.ndarray
    pred: np.ndarray
    num_classes: int = 0
    names: List[Optional[str]] = field(default_factory=list)
    failed: List[str] = field(default_factory=list)


def _predicted(score) -> int:
    score = np.asarray(score, dtype=np.float64)
    return int((score.mean(0) if score.ndim == 2 else score).argmax())


def read_annotation_labels(ann_file: str) -> List[int]:
    """The label of every sample of an annotation list, in order: the last field of each
    non-empty line (``path label`` for videos, ``frame_dir total_frames label`` for frame
    folders), or ``label`` of each item of a ``.json`` list. Single-label only."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file {ann_file} does not exist')
    if ann_file.endswith('.json'):
        with open(ann_file) as f:
            items = json.load(f)
        labels = []
        for i, item in enumerate(items):
            label = item.get('label') if isinstance(item, dict) else None
            if not isinstance(label, int):
                raise ValueError(f'{ann_file}[{i}]: expected an item with an integer "label", '
                                 f'got {item!r}')
            labels.append(label)
        return labels
    labels = []
    with open(ann_file) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            last = line.split()[-1]
            if not last.lstrip('-').isdigit() or len(line.split()) < 2:
                raise ValueError(f'{ann_file}:{number}: expected "path label" (label last), '
                                 f'got {line.strip()!r}')
            labels.append(int(last))
    return labels


def read_test_results(results_file: str, ann_file: Optional[str] = None) -> TestResults:
    """Labels and predictions from a ``tools/test.py`` output file.

    ``--dump`` files carry the labels; ``--out`` files (a list of score arrays) need
    ``ann_file``, the annotation list the test ran on, whose lines they follow one to one.
    Videos that could not be decoded (``decode_failed``, NaN scores) are left out and listed
    in ``failed``.
    """
    items = load_results(results_file)
    if not isinstance(items, list) or not items:
        raise ValueError(f'{results_file}: expected a non-empty list (tools/test.py --dump or '
                         f'--out), got {type(items).__name__}')
    gt, pred, names, failed, sizes = [], [], [], [], set()
    if isinstance(items[0], dict):  # --dump records
        for i, item in enumerate(items):
            if item.get('decode_failed'):
                failed.append(str(item.get('filename', f'#{i}')))
                continue
            if item.get('gt_label') is None:
                raise ValueError(f'{results_file}[{i}] has no gt_label (a test set without '
                                 'labels has no confusion matrix)')
            if isinstance(item['gt_label'], list):
                raise ValueError(f'{results_file}[{i}] is a multi-label video (labels '
                                 f"{item['gt_label']}); a confusion matrix needs one label per "
                                 'video: score multi-label results with tools/test.py --eval '
                                 'mean_average_precision')
            score = item.get('pred_score')
            if score is not None:
                sizes.add(np.shape(score)[-1])
            gt.append(int(item['gt_label']))
            pred.append(int(item['pred_label']) if item.get('pred_label') is not None
                        else _predicted(score))
            names.append(item.get('filename'))
    else:  # --out score arrays, in annotation order
        if ann_file is None:
            raise ValueError(f'{results_file} holds scores only (tools/test.py --out); give '
                             'the annotation file the test ran on with --ann-file, or use a '
                             '--dump file, which has the labels')
        labels = read_annotation_labels(ann_file)
        if len(labels) != len(items):
            raise ValueError(f'{results_file} has {len(items)} results but {ann_file} has '
                             f'{len(labels)} samples; the --out file follows the annotation '
                             'file line by line, so they must be the ones of the same test')
        for i, (score, label) in enumerate(zip(items, labels)):
            score = np.asarray(score, dtype=np.float64)
            if np.isnan(score).any():
                failed.append(f'{ann_file} sample {i + 1}')
                continue
            sizes.add(score.shape[-1])
            gt.append(label)
            pred.append(_predicted(score))
            names.append(None)
    if len(sizes) > 1:
        raise ValueError(f'{results_file}: score vectors of different lengths {sorted(sizes)}')
    return TestResults(np.asarray(gt, dtype=np.int64), np.asarray(pred, dtype=np.int64),
                       sizes.pop() if sizes else 0, names, failed)


def class_confusion_matrix(gt: np.ndarray, pred: np.ndarray, num_classes: int,
                           normalize: Optional[str] = None) -> np.ndarray:
    """``cm[i, j]``: how many videos of class ``i`` were predicted as ``j``, for every class
    ``0 .. num_classes - 1`` (so row ``i`` is class ``i`` whatever the test set holds; see
    :func:`confusion_matrix` for mmaction2 0.x's call).

    ``normalize``: ``None`` (counts, int64), ``'true'`` (each row divided by its total: the
    fraction of class ``i`` predicted as ``j``; rows of absent classes stay 0), ``'pred'``
    (each column by its total) or ``'all'`` (by the number of videos).
    """
    gt, pred = np.asarray(gt, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    if gt.shape != pred.shape:
        raise ValueError(f'{gt.shape[0]} labels but {pred.shape[0]} predictions')
    for what, values in (('label', gt), ('prediction', pred)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f'a {what} is outside 0..{num_classes - 1} (num_classes='
                             f'{num_classes}); does the label map match the model?')
    cm = np.bincount(gt * num_classes + pred, minlength=num_classes**2) \
        .reshape(num_classes, num_classes)
    if normalize is None:
        return cm
    if normalize not in ('true', 'pred', 'all'):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    total = {'true': cm.sum(1, keepdims=True), 'pred': cm.sum(0, keepdims=True),
             'all': np.array(cm.sum())}[normalize]
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(total > 0, cm / np.maximum(total, 1), 0.0)


def _integer_labels(name: str, values) -> np.ndarray:
    if isinstance(values, list):
        values = np.array(values)
    if not isinstance(values, np.ndarray):
        raise TypeError(f'{name} must be a list or np.ndarray of integer labels, got '
                        f'{type(values).__name__}')
    if values.dtype.kind not in 'iu':
        raise TypeError(f'{name} must hold integer labels, got dtype {values.dtype} (class '
                        'indices, not scores: take scores.argmax(axis=1) first)')
    if values.ndim != 1:
        raise ValueError(f'{name} must be one label per video (1-D), got shape {values.shape}')
    if values.size and values.min() < 0:
        raise ValueError(f'{name} holds a negative label {values.min()}')
    return values.astype(np.int64)


def confusion_matrix(y_pred, y_real, normalize: Optional[str] = None) -> np.ndarray:
    """mmaction2 0.x's confusion matrix: ``cm[i, j]`` counts the videos of the ``i``-th
    class predicted as the ``j``-th, where the classes are the labels that occur in
    ``y_pred`` or ``y_real``, in increasing order (``np.unique(y_pred + y_real)``); a
    class in neither list has no row or column.

    Args:
        y_pred: predicted labels, a list or integer array (N,).
        y_real: true labels (N,).
        normalize: ``None`` (counts, int64), ``'true'`` (rows sum to 1), ``'pred'``
            (columns sum to 1) or ``'all'`` (the matrix sums to 1); an empty row or column
            stays 0.

    Float labels (or anything but a list or array) are a ``TypeError``, as in 0.x. For a
    matrix over a fixed set of classes, with class ``i`` in row ``i``, see
    :func:`class_confusion_matrix`.
    """
    if normalize not in ('true', 'pred', 'all', None):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    y_pred = _integer_labels('y_pred', y_pred)
    y_real = _integer_labels('y_real', y_real)
    if y_pred.shape != y_real.shape:
        raise ValueError(f'{y_real.size} true labels but {y_pred.size} predictions')
    classes, index = np.unique(np.concatenate([y_pred, y_real]), return_inverse=True)
    pred, real = index[:y_pred.size], index[y_pred.size:]
    return class_confusion_matrix(real, pred, len(classes), normalize)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Fraction of each class's videos predicted right (NaN for a class with no videos),
    from a count matrix."""
    totals = cm.sum(1)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)
