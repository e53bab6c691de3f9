"""The multi-label metrics against average precisions worked out by hand, in 0.x's call forms
(a list of score arrays, multi-hot label rows), and AccMetric scoring multi-label results."""
import numpy as np
import pytest
import torch

from mmaction.evaluation import (
                                 METRIC_FUNCTIONS,
                                 AccMetric,
                                 mean_average_precision,
                                 mmit_mean_average_precision,
)
from mmaction.evaluation.average_precision import average_precision
from mmaction.evaluation.metrics.acc_metric import MetricError
from mmaction.structures import ActionDataSample

# 4 videos x 3 classes
SCORES = [np.array([0.9, 0.1, 0.5]),
          np.array([0.8, 0.7, 0.2]),
          np.array([0.3, 0.6, 0.4]),
          np.array([0.2, 0.2, 0.9])]
LABELS = [np.array([1, 0, 0]),
          np.array([0, 1, 1]),
          np.array([1, 1, 0]),
          np.array([0, 0, 1])]
# Per class (videos ranked by that class's score; AP = sum of recall gained x precision there):
#   class 0: 0.9 +, 0.8 -, 0.3 +, 0.2 -  -> 1/2 * 1/1 + 1/2 * 2/3 = 5/6
#   class 1: 0.7 +, 0.6 +, 0.2 -, 0.1 -  -> 1/2 * 1 + 1/2 * 1     = 1
#   class 2: 0.9 +, 0.5 -, 0.4 -, 0.2 +  -> 1/2 * 1 + 1/2 * 2/4   = 3/4
MAP = (5 / 6 + 1 + 3 / 4) / 3  # = 31/36
# Per video (its classes ranked by score):
#   video 0: 0.9 +                  -> 1
#   video 1: 0.8 -, 0.7 +, 0.2 +    -> 1/2 * 1/2 + 1/2 * 2/3 = 7/12
#   video 2: 0.6 +, 0.4 -, 0.3 +    -> 1/2 * 1 + 1/2 * 2/3   = 5/6
#   video 3: 0.9 +                  -> 1
MMIT_MAP = (1 + 7 / 12 + 5 / 6 + 1) / 4  # = 41/48


def test_mean_average_precision_by_hand():
    assert mean_average_precision(SCORES, LABELS) == pytest.approx(31 / 36)
    assert MAP == pytest.approx(31 / 36)
    # 0.x's other call form: (N, K) arrays
    assert mean_average_precision(np.stack(SCORES), np.stack(LABELS)) == pytest.approx(MAP)


def test_mmit_mean_average_precision_by_hand():
    assert mmit_mean_average_precision(SCORES, LABELS) == pytest.approx(41 / 48)
    assert MMIT_MAP == pytest.approx(41 / 48)


def test_values_of_0x_own_unit_tests():
    # mmaction2 0.x tests/test_metrics/test_accuracy.py: one video, classes ranked
    # 0.8 +, 0.4 -, 0.35 +, 0.1 -  -> 1/2 * 1 + 1/2 * 2/3 = 5/6
    assert mmit_mean_average_precision([np.array([0.1, 0.4, 0.35, 0.8])],
                                       [np.array([0, 0, 1, 1])]) == pytest.approx(5 / 6)
    scores = [np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.2, 0.3, 0.4, 0.1]),
              np.array([0.3, 0.4, 0.1, 0.2]), np.array([0.4, 0.1, 0.2, 0.3])]
    label1 = np.array([[1, 1, 0, 0], [1, 0, 1, 1], [1, 0, 1, 0], [1, 1, 0, 1]])
    label2 = np.array([[0, 1, 0, 1], [0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1]])
    assert mean_average_precision(scores, label1) == pytest.approx(2 / 3)
    assert mean_average_precision(scores, label2) == pytest.approx(
        np.mean([0.5, 0.5833333333333333, 0.8055555555555556, 1.0]))


def test_tied_scores_are_one_threshold():
    # 0.5 and 0.5 tie: at that threshold 1 of 2 is positive (precision 1/2, recall 1/2);
    # then 0.1 + (precision 2/3): 1/2 * 1/2 + 1/2 * 2/3 = 7/12, whichever tied entry comes
    # first (ranked positive-first it would be 5/6)
    assert average_precision(np.array([0.5, 0.5, 0.1]), np.array([1, 0, 1])) == \
        pytest.approx(7 / 12)
    assert average_precision(np.array([0.5, 0.5, 0.1]), np.array([0, 1, 1])) == \
        pytest.approx(7 / 12)


def test_classes_without_positives_are_left_out_and_unlabelled_videos_give_nan():
    scores = [np.r_[s, 0.5] for s in SCORES]
    labels = [np.r_[y, 0] for y in LABELS]  # a 4th class no video has
    assert mean_average_precision(scores, labels) == pytest.approx(MAP)
    assert np.isnan(mean_average_precision(SCORES, [np.zeros(3)] * 4))
    # 0.x: a video without a label has no AP, and the MMIT mean is NaN
    assert np.isnan(mmit_mean_average_precision(SCORES, LABELS[:3] + [np.zeros(3)]))


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match='4 score rows but 3 label rows'):
        mean_average_precision(SCORES, LABELS[:3])
    # class indices instead of multi-hot rows
    with pytest.raises(ValueError, match='multi-hot rows of 3'):
        mean_average_precision(SCORES, [np.array([0]), np.array([1, 2]), np.array([0, 1]),
                                        np.array([2])])
    with pytest.raises(ValueError, match='not finite'):
        mmit_mean_average_precision([np.full(3, np.nan)] + SCORES[1:], LABELS)


def test_the_table_names_the_functions_by_their_eval_names():
    assert METRIC_FUNCTIONS['mean_average_precision'] is mean_average_precision
    assert METRIC_FUNCTIONS['mmit_mean_average_precision'] is mmit_mean_average_precision
    assert set(METRIC_FUNCTIONS) == {'top_k_accuracy', 'mean_class_accuracy',
                                     'mean_average_precision', 'mmit_mean_average_precision'}


def _evaluate(metric, labels, scores=SCORES):
    samples = []
    for score, label in zip(scores, labels):
        sample = ActionDataSample().set_gt_label(label)
        samples.append(sample.set_pred_score(torch.tensor(score, dtype=torch.float32))
                       .to_dict())
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_acc_metric_scores_multi_hot_labels():
    metric = AccMetric(metric_list=('mean_average_precision', 'mmit_mean_average_precision'))
    rows = [y.astype(np.float32) for y in LABELS]  # what a multi_class dataset packs
    out = _evaluate(metric, rows)
    assert out == pytest.approx({'mean_average_precision': MAP,
                                 'mmit_mean_average_precision': MMIT_MAP})


def test_acc_metric_refuses_top_k_of_multi_label_data():
    metric = AccMetric(metric_list=('top_k_accuracy', 'mean_average_precision'))
    with pytest.raises(MetricError, match=r"\['top_k_accuracy'\] need one label per video.*"
                       '--eval mean_average_precision'):
        _evaluate(metric, [y.astype(np.float32) for y in LABELS])


def test_acc_metric_scores_single_labels_as_one_hot_rows():
    # labels 0, 1, 2, 2 as one-hot rows: class 0: 0.9 + first -> 1; class 1: 0.7 + first -> 1;
    # class 2: 0.9 + (video 3), 0.5 -, 0.4 + (video 2) -> 1/2 * 1 + 1/2 * 2/3 = 5/6
    out = _evaluate(AccMetric(metric_list='mean_average_precision'), [0, 1, 2, 2])
    assert out['mean_average_precision'] == pytest.approx((1 + 1 + 5 / 6) / 3)
