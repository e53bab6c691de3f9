"""top_k_accuracy, mean_class_accuracy and confusion_matrix called as mmaction2 0.x calls
them: a list of score arrays and a list of labels (0.x's ``tests/test_metrics/
test_accuracy.py``: ``test_topk``, ``test_mean_class_accuracy``, ``test_confusion_matrix``,
same scores and expected values)."""
import random

import numpy as np
import pytest

from mmaction.evaluation import confusion_matrix, mean_class_accuracy, top_k_accuracy

# 0.x's test scores; the top-1 classes are 2, 2, 2, 4 (no ties)
SCORES = [
    np.array([-0.2203, -0.7538, 1.8789, 0.4451, -0.2526]),
    np.array([-0.0413, 0.6366, 1.1155, 0.3484, 0.0395]),
    np.array([0.0365, 0.5158, 1.1067, -0.9276, -0.2124]),
    np.array([0.6232, 0.9912, -0.8562, 0.0148, 1.6413]),
]


@pytest.mark.parametrize('labels, topk, expected', [
    ([3, 1, 1, 1], (1, ), [0.0]),
    ([2, 0, 4, 3], (1, ), [0.25]),
    ([2, 2, 3, 1], (1, ), [0.5]),
    ([2, 2, 2, 3], (1, ), [0.75]),
    ([2, 2, 2, 4], (1, ), [1.0]),
    ([3, 1, 1, 1], (1, 2), [0.0, 1.0]),
    ([3, 1, 2, 3], (1, 2), [0.25, 0.75]),
    ([1, 0, 3, 2], (1, 3, 5), [0.0, 0.0, 1.0]),
    ([1, 3, 4, 0], (1, 3, 5), [0.0, 0.5, 1.0]),
    ([2, 3, 0, 2], (1, 3, 5), [0.25, 0.75, 1.0]),
])
def test_top_k_accuracy_of_lists(labels, topk, expected):
    assert top_k_accuracy(SCORES, labels, topk) == expected
    assert top_k_accuracy(np.stack(SCORES), np.array(labels), topk) == expected


def test_top_k_accuracy_defaults_to_top1_and_refuses_ragged_scores():
    assert top_k_accuracy(SCORES, [2, 2, 3, 1]) == [0.5]  # 0.x's topk=(1, )
    with pytest.raises(ValueError, match='different lengths'):
        top_k_accuracy([np.zeros(3), np.zeros(4)], [0, 1])
    with pytest.raises(ValueError, match='one class index per score vector'):
        top_k_accuracy(SCORES, [0, 1])


@pytest.mark.parametrize('labels, expected', [
    ([1, 4, 0, 2], 0.0),
    ([2, 0, 4, 3], 0.25),
    ([4, 2, 2, 4], 0.75),  # class 2: 2 of 2, class 4: 1 of 2
    ([2, 2, 2, 4], 1.0),
    # 0.x expects 1/3 here: it also averages in class 4, which is only predicted (row 3),
    # with accuracy 0; we average over the classes in the labels: (3/3 + 0/1) / 2
    ([2, 2, 2, 3], 0.5),
])
def test_mean_class_accuracy_of_lists(labels, expected):
    assert mean_class_accuracy(SCORES, np.int64(labels)) == expected
    assert mean_class_accuracy(SCORES, labels) == expected


# y_real 0 0 3 3 3 5, y_pred 0 3 3 7 3 0: classes {0, 3, 5, 7}; 1, 2, 4, 6 are in neither list
REAL, PRED = [0, 0, 3, 3, 3, 5], [0, 3, 3, 7, 3, 0]
COUNTS = np.array([[1, 1, 0, 0],   # true 0: predicted 0, 3
                   [0, 2, 0, 1],   # true 3: predicted 3, 7, 3
                   [1, 0, 0, 0],   # true 5: predicted 0
                   [0, 0, 0, 0]])  # 7 is only predicted


def test_confusion_matrix_keeps_the_classes_that_occur():
    cm = confusion_matrix(PRED, REAL)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, COUNTS)
    np.testing.assert_array_equal(confusion_matrix(np.array(PRED), np.array(REAL)), COUNTS)
    np.testing.assert_allclose(confusion_matrix(PRED, REAL, 'true'),
                               [[.5, .5, 0, 0], [0, 2 / 3, 0, 1 / 3], [1, 0, 0, 0], [0, 0, 0, 0]])
    # column totals 2, 3, 0, 1: the empty column of class 5 stays 0
    np.testing.assert_allclose(confusion_matrix(PRED, REAL, 'pred'),
                               [[.5, 1 / 3, 0, 0], [0, 2 / 3, 0, 1], [.5, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(confusion_matrix(PRED, REAL, 'all'), COUNTS / 6)


def test_confusion_matrix_equals_a_count_over_the_seen_classes():
    """0.x's test against random labels, with an independent slower formulation."""
    rng = random.Random(0)
    real = [rng.randint(0, 9) for _ in range(100)]
    pred = [rng.randint(0, 9) for _ in range(100)]
    pred[:5] = [12] * 5  # a class that is only predicted
    classes = sorted(set(real) | set(pred))
    expected = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for r, p in zip(real, pred):
        expected[classes.index(r), classes.index(p)] += 1
    np.testing.assert_array_equal(confusion_matrix(pred, real), expected)
    rows = expected.sum(1, keepdims=True)
    np.testing.assert_allclose(confusion_matrix(pred, real, 'true'),
                               np.where(rows > 0, expected / np.maximum(rows, 1), 0))


def test_confusion_matrix_refuses_what_0x_refuses():
    with pytest.raises(ValueError, match='normalize'):
        confusion_matrix([1], [1], 'unsupport')
    for pred, real in ((0.5, [1]), ([1], 0.5), ([0.5], [1]), ([1], [0.5])):
        with pytest.raises(TypeError):
            confusion_matrix(pred, real)
    with pytest.raises(TypeError, match='argmax'):
        confusion_matrix(np.array([0.2, 0.8]), [1, 0])
    with pytest.raises(ValueError, match='2 true labels but 3 predictions'):
        confusion_matrix([0, 1, 1], [0, 1])
