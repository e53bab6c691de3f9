"""Score fusion: the weighted sum of several models' (or streams', or views') class scores of
the same videos, mmaction2 0.x's ``get_weighted_score`` (``tools/analysis/report_accuracy.py``).
"""
from typing import List, Sequence

import numpy as np

from .results import ResultsError


def get_weighted_score(score_list: Sequence[Sequence[np.ndarray]],
                       coeff_list: Sequence[float]) -> List[np.ndarray]:
    """``sum_i coeff_list[i] * score_list[i]``, video by video, as mmaction2 0.x computes it.

    Args:
        score_list: one entry per model: the scores of the same N videos, in the same order
            (a list of N arrays of K class scores, or an (N, K) array).
        coeff_list: one weight per model.

    Returns:
        The N fused score arrays (K,), as a list (0.x's return type).

    Raises:
        ResultsError: other numbers of models and weights, of videos, or of classes.
    """
    if len(score_list) != len(coeff_list):
        raise ResultsError(f'{len(score_list)} sets of scores but {len(coeff_list)} '
                           'coefficients: give one coefficient per set')
    if not len(score_list):
        raise ResultsError('no scores to fuse')
    shapes = []
    for i, scores in enumerate(score_list):
        try:
            shapes.append(np.shape(np.asarray(scores, dtype=np.float64)))
        except ValueError:  # ragged
            raise ResultsError(f'set {i}: the score arrays of its videos differ in length') \
                from None
    if len(set(shapes)) > 1:
        raise ResultsError(f'the sets of scores have shapes {shapes} (videos, classes): fused '
                           'scores must be of the same videos and classes')
    stacked = np.asarray(score_list, dtype=np.float64)  # (models, N, K)
    return list(np.tensordot(np.asarray(coeff_list, dtype=np.float64), stacked, axes=1))


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax over ``axis`` (the classes), stable for large scores."""
    scores = np.asarray(scores, dtype=np.float64)
    exp = np.exp(scores - np.max(scores, axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)
