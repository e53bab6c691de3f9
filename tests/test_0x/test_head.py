"""I3DHead as mmaction2 0.x's code reads and calls it (0.x's ``tests/test_models/
test_head.py::test_i3d_head`` for the attributes, ``test_common_modules/test_base_head.py``
for the label shapes ``loss`` takes)."""
import math

import pytest
import torch
from torch import nn

from mmaction.models.heads import I3DHead
from mmaction.utils import register_all_modules


@pytest.fixture(autouse=True)
def _registered():
    register_all_modules()


def test_attributes_0x_reads():
    head = I3DHead(num_classes=4, in_channels=2048)
    assert head.num_classes == 4 and head.in_channels == 2048
    assert head.dropout_ratio == 0.5 and head.init_std == 0.01
    assert head.spatial_type == 'avg'
    assert isinstance(head.dropout, nn.Dropout) and head.dropout.p == head.dropout_ratio
    assert isinstance(head.fc_cls, nn.Linear)
    assert (head.fc_cls.in_features, head.fc_cls.out_features) == (2048, 4)
    assert isinstance(head.avg_pool, nn.AdaptiveAvgPool3d)
    assert head.avg_pool.output_size == (1, 1, 1)
    assert head(torch.rand(3, 2048, 4, 7, 7)).shape == (3, 4)
    bare = I3DHead(num_classes=4, in_channels=8, spatial_type=None, dropout_ratio=0.0)
    assert bare.dropout is None and bare.avg_pool is None


def test_forward_pools_with_avg_pool():
    head = I3DHead(num_classes=3, in_channels=2, dropout_ratio=0.0)
    with torch.no_grad():
        head.fc_cls.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]))
        head.fc_cls.bias.zero_()
    x = torch.zeros(1, 2, 2, 1, 2)
    x[0, 0] = torch.tensor([[[1.0, 3.0]], [[5.0, 7.0]]])  # channel 0: mean 4
    x[0, 1] = 2.0                                         # channel 1: mean 2
    torch.testing.assert_close(head(x), torch.tensor([[4.0, 2.0, 2.0]]))
    head.avg_pool = nn.AdaptiveMaxPool3d(1)  # code that swaps the pooling is followed
    torch.testing.assert_close(head(x), torch.tensor([[7.0, 2.0, 5.0]]))


def test_loss_takes_a_scalar_label_for_a_batch_of_one():
    head = I3DHead(num_classes=4, in_channels=2, dropout_ratio=0.0)
    score = torch.tensor([[0.0, 0.0, math.log(2), 0.0]])  # p(2) = 2/5
    losses = head.loss(score, torch.tensor(2))
    assert float(losses['loss_cls']) == pytest.approx(math.log(5 / 2), rel=1e-6)
    assert float(losses['top1_acc']) == 1.0
    # a batch of one soft label, (num_classes,): the same loss, no accuracies
    soft = head.loss(score, torch.tensor([0.0, 0.0, 1.0, 0.0]))
    assert float(soft['loss_cls']) == pytest.approx(math.log(5 / 2), rel=1e-6)
    assert set(soft) == {'loss_cls'}


def test_loss_takes_soft_labels_shaped_like_the_scores():
    head = I3DHead(num_classes=2, in_channels=2, dropout_ratio=0.0)
    score = torch.tensor([[0.0, 0.0], [math.log(3), 0.0]])
    # -(1 * ln 1/2) and -(.25 ln 3/4 + .75 ln 1/4), averaged over the 2 rows
    expected = (math.log(2) + 0.25 * math.log(4 / 3) + 1.5 * math.log(2)) / 2
    losses = head.loss(score, torch.tensor([[1.0, 0.0], [0.25, 0.75]]))
    assert float(losses['loss_cls']) == pytest.approx(expected, rel=1e-6)
    assert set(losses) == {'loss_cls'}
