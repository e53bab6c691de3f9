"""Average precision for multi-label recognition: mmaction2 0.x's two mAP figures.

Both rank scores and read multi-hot labels (1 = the label is present; anything else counts
as absent, as in 0.x). The average precision of one ranking is the non-interpolated one:
walking down the ranking, each threshold where recall grows adds the recall gained times the
precision there. Tied scores form one threshold, so the order within a tie does not matter.

* :func:`mean_average_precision`: one AP per class (ranking the videos by that class's
  score), averaged over the classes that have a positive video (0.x's ``--eval
  mean_average_precision``, used for HVU).
* :func:`mmit_mean_average_precision`: one AP per video (ranking its classes), averaged over
  the videos (Multi-Moments in Time's figure). As in 0.x, a video without any label makes it
  NaN; our datasets refuse annotation lines without a label.
"""
from typing import Sequence, Union

import numpy as np

ArrayRows = Union[np.ndarray, Sequence[np.ndarray]]
#: the ``--eval`` names of these metrics
MULTI_LABEL_METRICS = ('mean_average_precision', 'mmit_mean_average_precision')


def average_precision(scores: np.ndarray, truth: np.ndarray) -> float:
    """AP of ranking the entries of ``scores`` (1-D) against ``truth == 1``; NaN without
    positives."""
    positive = np.asarray(truth) == 1
    num_positive = int(positive.sum())
    if num_positive == 0:
        return float('nan')
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind='stable')
    ranked, hits = scores[order], positive[order]
    # a threshold sits after the last entry of each run of equal scores
    ends = np.flatnonzero(np.r_[ranked[1:] != ranked[:-1], True])
    true_pos = np.cumsum(hits)[ends]
    precision = true_pos / (ends + 1)
    recall_gain = np.diff(np.r_[0, true_pos]) / num_positive
    return float(np.sum(recall_gain * precision))


def _matrices(scores: ArrayRows, labels: ArrayRows, name: str):
    """(scores, labels) as (N, K) arrays; mismatches are refused with what was expected."""
    if len(scores) != len(labels):
        raise ValueError(f'{name}: {len(scores)} score rows but {len(labels)} label rows; '
                         'give one multi-hot label row per video, in the order of the scores')
    if len(scores) == 0:
        raise ValueError(f'{name}: no videos to evaluate')
    score_rows = [np.asarray(s, dtype=np.float64).reshape(-1) for s in scores]
    label_rows = [np.asarray(y).reshape(-1) for y in labels]
    widths = {r.size for r in score_rows}
    if len(widths) != 1:
        raise ValueError(f'{name}: score rows of different lengths {sorted(widths)}')
    (width, ) = widths
    wrong = [i for i, y in enumerate(label_rows) if y.size != width]
    if wrong:
        raise ValueError(f'{name}: labels must be multi-hot rows of {width} (one entry per '
                         f'class, 1 where the label is present); row {wrong[0]} has '
                         f'{label_rows[wrong[0]].size} entries')
    scores, labels = np.stack(score_rows), np.stack(label_rows)
    if not np.isfinite(scores).all():
        rows = np.flatnonzero(~np.isfinite(scores).all(axis=1))
        raise ValueError(f'{name}: the scores of rows {rows[:10].tolist()} are not finite '
                         '(NaN scores mark videos that could not be decoded: leave them out)')
    return scores, labels


def mean_average_precision(scores: ArrayRows, labels: ArrayRows) -> float:
    """Mean over classes of the AP of ranking the videos by that class's score.

    Args:
        scores: one score row (K,) per video: a list of arrays, as 0.x's results, or (N, K).
        labels: one multi-hot row (K,) per video, same forms.

    Classes without a positive video have no AP and are left out of the mean; NaN when no
    class has one.
    """
    scores, labels = _matrices(scores, labels, 'mean_average_precision')
    aps = [average_precision(s, y) for s, y in zip(scores.T, labels.T)]
    aps = [ap for ap in aps if not np.isnan(ap)]
    return float(np.mean(aps)) if aps else float('nan')


def mmit_mean_average_precision(scores: ArrayRows, labels: ArrayRows) -> float:
    """Mean over videos of the AP of ranking that video's classes by score (arguments as
    :func:`mean_average_precision`). NaN when a video has no label."""
    scores, labels = _matrices(scores, labels, 'mmit_mean_average_precision')
    return float(np.mean([average_precision(s, y) for s, y in zip(scores, labels)]))
