"""CrossEntropyLoss and NLLLoss against mmaction2 0.x's formulas, worked out by hand.

0.x (``mmaction/models/losses/cross_entropy_loss.py``): hard labels are ``F.cross_entropy``
(with ``class_weight``: its weighted mean, ``sum_n w[y_n] l_n / sum_n w[y_n]``); soft targets
``t`` are ``-sum_nc w_c t_nc log p_nc`` divided by ``sum_nc w_c t_nc`` with ``class_weight``,
by N without. Cases from 0.x's ``tests/test_metrics/test_losses.py``
(``test_cross_entropy_loss``: one-hot soft targets give the hard labels' loss, with and
without ``class_weight``; ``test_nll_loss``), with scores whose softmax is exact:
row 0 ``[0, 0]`` -> p = (1/2, 1/2), row 1 ``[ln 3, 0]`` -> p = (3/4, 1/4).
"""
import math

import pytest
import torch

from mmaction.models.heads import I3DHead
from mmaction.models.losses import CrossEntropyLoss, NLLLoss
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

LN2, LN4_3 = math.log(2), math.log(4 / 3)
SCORES = torch.tensor([[0.0, 0.0], [math.log(3), 0.0]])
LABELS = torch.tensor([0, 1])
ONE_HOT = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
BLENDED = torch.tensor([[0.5, 0.5], [0.25, 0.75]])
WEIGHT = [1.0, 3.0]


def close(value, expected):
    assert float(value) == pytest.approx(expected, rel=1e-6)


def test_hard_labels_are_the_weighted_mean():
    close(CrossEntropyLoss()(SCORES, LABELS), (LN2 + 2 * LN2) / 2)
    # (1 * ln 2 + 3 * ln 4) / (1 + 3)
    close(CrossEntropyLoss(class_weight=WEIGHT)(SCORES, LABELS), 7 * LN2 / 4)


def test_one_hot_soft_targets_with_class_weight_equal_hard_labels():
    # 0.x divides by sum(w * t) = 4, not by N = 2 (which gave 7 ln2 / 2 here)
    close(CrossEntropyLoss(class_weight=WEIGHT)(SCORES, ONE_HOT), 7 * LN2 / 4)
    close(CrossEntropyLoss()(SCORES, ONE_HOT), 3 * LN2 / 2)


def test_blended_targets_with_class_weight():
    # numerator: row 0 .5*1*ln2 + .5*3*ln2; row 1 .25*1*ln(4/3) + .75*3*ln4
    # denominator: .5*1 + .5*3 + .25*1 + .75*3 = 4.5
    expected = (2 * LN2 + 0.25 * LN4_3 + 4.5 * LN2) / 4.5
    close(CrossEntropyLoss(class_weight=WEIGHT)(SCORES, BLENDED), expected)
    close(CrossEntropyLoss(class_weight=WEIGHT, loss_weight=2.0)(SCORES, BLENDED), 2 * expected)
    # without class_weight: the mean over the N rows (unchanged)
    close(CrossEntropyLoss()(SCORES, BLENDED), (LN2 + 0.25 * LN4_3 + 1.5 * LN2) / 2)


def test_label_smoothing_with_class_weight_in_the_head():
    # eps 0.2 over 2 classes: targets [.9, .1] and [.1, .9]; sum(w * t) = .9 + .3 + .1 + 2.7
    register_all_modules()
    head = I3DHead(num_classes=2, in_channels=4, label_smooth_eps=0.2, dropout_ratio=0.0,
                   loss_cls=dict(type='CrossEntropyLoss', class_weight=WEIGHT))
    expected = (0.9 * LN2 + 0.3 * LN2 + 0.1 * LN4_3 + 2.7 * 2 * LN2) / 4.0
    close(head.loss(SCORES, LABELS)['loss_cls'], expected)


def test_nll_loss_is_registered_and_takes_log_probabilities():
    register_all_modules()
    loss = MODELS.build(dict(type='NLLLoss', loss_weight=2.0))
    assert isinstance(loss, NLLLoss)
    log_p = torch.log(torch.tensor([[0.5, 0.5], [0.75, 0.25]]))
    close(NLLLoss()(log_p, LABELS), (LN2 + 2 * LN2) / 2)
    close(loss(log_p, LABELS), 3 * LN2)
    # keyword arguments reach F.nll_loss, as in 0.x
    close(NLLLoss()(log_p, LABELS, reduction='sum'), 3 * LN2)
