"""Multi-label recognition in the model: BCELossWithLogits against the binary cross-entropy
written out by hand (with 0.x's class_weight), the multi_class head path (targets, 0.x's
label smoothing, what it logs) and the recognizer's multi-hot batches and sigmoid scores."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmaction.models import BCELossWithLogits
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from tests.helpers import tiny_recognizer

LN2, LN3 = math.log(2), math.log(3)
# sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4, sigmoid(-ln 3) = 1/4
SCORES = torch.tensor([[0.0, LN3], [-LN3, 0.0]])
TARGETS = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
# -[y log p + (1 - y) log(1 - p)] per entry:
#   (0, 0): y=1, p=1/2 -> ln 2      (0, 1): y=0, p=3/4 -> ln 4 = 2 ln 2
#   (1, 0): y=1, p=1/4 -> 2 ln 2    (1, 1): y=1, p=1/2 -> ln 2
TERMS = torch.tensor([[LN2, 2 * LN2], [2 * LN2, LN2]])


def test_bce_is_the_mean_of_the_hand_written_terms():
    assert BCELossWithLogits()(SCORES, TARGETS).item() == pytest.approx(6 * LN2 / 4)
    assert BCELossWithLogits(loss_weight=3.0)(SCORES, TARGETS).item() == \
        pytest.approx(3 * 6 * LN2 / 4)


def test_class_weight_scales_each_class_and_the_mean_still_divides_by_n_k():
    # 0.x: weights 2 and 0.5 multiply the class columns; the mean stays over the 4 entries
    # (2 ln2 + 0.5 * 2 ln2 + 2 * 2 ln2 + 0.5 ln2) / 4 = 7.5 ln 2 / 4, not / (sum of weights)
    loss = BCELossWithLogits(class_weight=[2.0, 0.5])(SCORES, TARGETS)
    assert loss.item() == pytest.approx(7.5 * LN2 / 4)
    assert loss.item() == pytest.approx((TERMS * torch.tensor([2.0, 0.5])).mean().item())
    with pytest.raises(ValueError, match='2 weights but the head scores 3 classes'):
        BCELossWithLogits(class_weight=[2.0, 0.5])(torch.zeros(2, 3), torch.zeros(2, 3))


def test_bce_takes_class_indices_as_one_hot_rows_and_refuses_other_shapes():
    labels = torch.tensor([1, 0])
    assert BCELossWithLogits()(SCORES, labels).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(SCORES, F.one_hot(labels, 2).float()).item())
    with pytest.raises(ValueError, match=r'targets shaped like the scores \(2, 2\)'):
        BCELossWithLogits()(SCORES, torch.ones(2, 3))


def test_bce_is_registered_for_configs():
    loss = MODELS.build(dict(type='BCELossWithLogits', loss_weight=160.0))
    assert loss(SCORES, TARGETS).item() == pytest.approx(160 * 6 * LN2 / 4)


def head(**kw):
    cfg = dict(type='I3DHead', num_classes=2, in_channels=4, multi_class=True,
               loss_cls=dict(type='BCELossWithLogits'))
    cfg.update(kw)
    return MODELS.build(cfg)


def test_multi_class_head_trains_bce_on_multi_hot_labels_and_logs_precision_at_1():
    losses = head().loss(SCORES, TARGETS)
    assert set(losses) == {'loss_cls', 'precision_at_1'}  # no top-k of multi-hot labels
    assert losses['loss_cls'].item() == pytest.approx(6 * LN2 / 4)
    # row 0's top class (1, ln 3 > 0) is not its label; row 1's (1) is
    assert losses['precision_at_1'].item() == 0.5


def test_multi_class_label_smoothing_is_0x_formula():
    # 0.x: target = (1 - eps) * y + eps / K; with eps = 0.3, K = 3: 1 -> 0.8, 0 -> 0.1
    scores = torch.tensor([[0.3, -1.2, 2.0], [1.5, 0.4, -0.7]])
    labels = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    losses = head(num_classes=3, label_smooth_eps=0.3).loss(scores, labels)
    smoothed = torch.tensor([[0.8, 0.1, 0.8], [0.1, 0.8, 0.1]])
    p = torch.sigmoid(scores)
    by_hand = -(smoothed * p.log() + (1 - smoothed) * (1 - p).log()).mean()
    assert losses['loss_cls'].item() == pytest.approx(by_hand.item(), rel=1e-6)


def test_multi_class_head_refuses_labels_of_another_shape():
    with pytest.raises(ValueError, match='multi-hot labels shaped like the scores'):
        head().loss(SCORES, torch.ones(2, 3))


def _recognizer(num_classes=3, **kw):
    cfg = tiny_recognizer(num_classes=num_classes, **kw)
    cfg['cls_head'].update(multi_class=True, loss_cls=dict(type='BCELossWithLogits'))
    return MODELS.build(cfg)


def test_recognizer_packs_multi_hot_rows_and_repeats_them_per_view():
    model = _recognizer()
    rows = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    samples = [ActionDataSample().set_gt_label(torch.tensor(r)) for r in rows]
    seen = {}
    original = model.cls_head.loss

    def spy(scores, labels, soft=None):
        seen['labels'] = labels
        return original(scores, labels, soft)

    model.cls_head.loss = spy
    inputs = torch.randn(2, 2, 3, 4, 32, 32)  # 2 videos x 2 views
    losses = model.loss(inputs, samples)
    assert torch.equal(seen['labels'], torch.tensor([rows[0], rows[0], rows[1], rows[1]]))
    assert set(losses) == {'loss_cls', 'precision_at_1'}


def test_prob_averaging_of_a_multi_class_head_is_the_sigmoid():
    model = _recognizer(test_cfg=dict(average_clips='prob')).eval()
    inputs = torch.randn(1, 2, 3, 4, 32, 32)
    with torch.no_grad():
        raw = model(inputs, mode='tensor')  # (2 views, 3)
        score = model.predict(inputs)[0].pred_score
    assert torch.allclose(score, torch.sigmoid(raw).mean(0), atol=1e-6)
