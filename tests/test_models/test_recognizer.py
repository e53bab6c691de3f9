"""Recognizer3D, I3DHead, losses, blending, preprocessor, trainable policy, param counts."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

import mmaction.models  # noqa: F401  (registers)
from mmaction.checkpoint import load_into
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from tests.helpers import tiny_recognizer


def samples(*labels):
    return [ActionDataSample().set_gt_label(label) for label in labels]


def randomised(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.2 * torch.randn_like(p))
    return model


def test_max_testing_views_chunking_equals_unchunked():
    whole = randomised(MODELS.build(tiny_recognizer(test_cfg=dict(average_clips='prob')))).eval()
    chunked = MODELS.build(tiny_recognizer(test_cfg=dict(average_clips='prob',
                                                         max_testing_views=2))).eval()
    chunked.load_state_dict(whole.state_dict())
    inputs = torch.randn(2, 3, 3, 4, 32, 32)  # 2 videos x 3 views -> chunks of 2, 2, 2
    with torch.no_grad():
        a = torch.stack([s.pred_score for s in whole.predict(inputs)])
        b = torch.stack([s.pred_score for s in chunked.predict(inputs)])
    torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize('average', ['prob', 'score', None])
def test_view_averaging(average):
    model = randomised(MODELS.build(tiny_recognizer(test_cfg=dict(average_clips=average)))).eval()
    inputs = torch.randn(2, 3, 3, 4, 32, 32)
    with torch.no_grad():
        raw = model(inputs, mode='tensor').view(2, 3, -1)  # per-view scores
        preds = model.predict(inputs, samples(0, 1))
    expected = {'prob': raw.softmax(-1).mean(1), 'score': raw.mean(1), None: raw}[average]
    for i, sample in enumerate(preds):
        torch.testing.assert_close(sample.pred_score, expected[i])
        assert int(sample.pred_label) == int(expected[i].reshape(-1, 5).mean(0).argmax())
        assert int(sample.gt_label) == i  # the samples passed in are filled, not replaced


def test_bad_test_cfg_is_refused():
    with pytest.raises(ValueError, match="average_clips must be 'prob', 'score' or None"):
        MODELS.build(tiny_recognizer(test_cfg=dict(average_clips='mean')))
    with pytest.raises(ValueError, match='max_testing_views must be a positive int'):
        MODELS.build(tiny_recognizer(test_cfg=dict(max_testing_views=0)))


def test_training_loss_is_cross_entropy_over_every_view():
    model = randomised(MODELS.build(tiny_recognizer())).train()
    inputs = torch.randn(2, 2, 3, 4, 32, 32)
    losses = model.loss(inputs, samples(1, 4))
    scores = model(inputs, mode='tensor')  # dropout is 0 and no drop path: deterministic
    expected = F.cross_entropy(scores, torch.tensor([1, 1, 4, 4]))
    torch.testing.assert_close(losses['loss_cls'], expected)
    top1 = (scores.argmax(1) == torch.tensor([1, 1, 4, 4])).float().mean()
    torch.testing.assert_close(losses['top1_acc'], top1)


def test_label_smoothing_blending_as_the_ssv2_config_writes_it():
    cfg = tiny_recognizer(train_cfg=dict(
        blending=dict(type='LabelSmoothing', num_classes=5, smoothing=0.1)))
    model = randomised(MODELS.build(cfg)).train()
    inputs = torch.randn(2, 1, 3, 4, 32, 32)
    loss = model.loss(inputs, samples(0, 3))['loss_cls']
    logp = model(inputs, mode='tensor').log_softmax(-1)
    target = torch.full((2, 5), 0.1 / 5)
    target[0, 0] += 0.9
    target[1, 3] += 0.9
    torch.testing.assert_close(loss, -(target * logp).sum(1).mean())


def test_blending_and_head_must_agree_on_num_classes():
    with pytest.raises(ValueError, match=r'blending.num_classes=174.*cls_head.num_classes=5'):
        MODELS.build(tiny_recognizer(train_cfg=dict(
            blending=dict(type='LabelSmoothing', num_classes=174, smoothing=0.1))))


def test_mixup_targets_are_convex_combinations():
    from mmaction.models import MixupBlending
    torch.manual_seed(0)
    x = torch.randn(4, 3, 2, 8, 8)
    mixed, target = MixupBlending(num_classes=3, alpha=1.0)(x, torch.tensor([0, 1, 2, 0]))
    assert mixed.shape == x.shape
    torch.testing.assert_close(target.sum(1), torch.ones(4))


def test_i3d_head_names_init_and_pooling():
    head = MODELS.build(dict(type='I3DHead', in_channels=256, num_classes=400, dropout_ratio=0.5))
    assert set(head.state_dict()) == {'fc_cls.weight', 'fc_cls.bias'}
    assert abs(head.fc_cls.weight.std().item() - 0.01) < 0.001
    assert head.fc_cls.bias.abs().max() == 0
    head.eval()
    feats = torch.randn(2, 256, 4, 3, 3)
    expected = feats.mean(dim=(2, 3, 4)) @ head.fc_cls.weight.T + head.fc_cls.bias
    torch.testing.assert_close(head(feats), expected)
    with pytest.raises(ValueError, match=r'in_channels=256.*128 channels'):
        head(torch.randn(2, 128, 4, 1, 1))


def test_data_preprocessor_normalises_uint8_on_the_device():
    pre = MODELS.build(dict(type='ActionDataPreprocessor', mean=[100., 110., 120.],
                            std=[10., 20., 40.]))
    clip = torch.randint(0, 256, (1, 3, 2, 4, 4), dtype=torch.uint8)  # (views, C, T, H, W)
    out = pre(dict(inputs=[clip, clip], data_samples=samples(0, 1)))
    assert out['inputs'].dtype == torch.float32 and out['inputs'].shape == (2, 1, 3, 2, 4, 4)
    for c, (m, s) in enumerate([(100, 10), (110, 20), (120, 40)]):
        torch.testing.assert_close(out['inputs'][0, 0, c], (clip[0, c].float() - m) / s)
    with pytest.raises(ValueError, match='share a shape'):
        pre(dict(inputs=[clip, clip[..., :2]], data_samples=samples(0, 1)))


def test_trainable_policy_follows_aim_rule_and_patterns():
    model = MODELS.build(tiny_recognizer())
    for name, p in model.named_parameters():
        expected = any(k in name for k in ('Adapter', 'temporal_embedding', 'ln_post', 'cls_head'))
        assert p.requires_grad == expected, name
    full = MODELS.build(tiny_recognizer(trainable_params='all'))
    assert all(p.requires_grad for p in full.parameters())
    heads_only = MODELS.build(tiny_recognizer(trainable_params=[r'^cls_head\.']))
    assert {n for n, p in heads_only.named_parameters() if p.requires_grad} == {
        'cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'}


def test_released_checkpoint_loads_strictly_and_reproduces_logits(tmp_path):
    saved = randomised(MODELS.build(tiny_recognizer())).eval()
    inputs = torch.randn(1, 2, 3, 4, 32, 32)
    with torch.no_grad():
        logits = saved(inputs, mode='tensor')
    state = saved.state_dict()
    assert {k.split('.')[0] for k in state} == {'backbone', 'cls_head'}
    path = tmp_path / 'aim.pth'
    torch.save({'meta': {'epoch': 30, 'mmcv_version': '1.3.0', 'config': 'model = ...'},
                'state_dict': state}, path)

    fresh = MODELS.build(tiny_recognizer()).eval()
    meta = load_into(fresh, str(path), strict=True)
    assert meta['epoch'] == 30
    with torch.no_grad():
        torch.testing.assert_close(fresh(inputs, mode='tensor'), logits, atol=0, rtol=0)

    wrong = MODELS.build(tiny_recognizer(num_classes=7))
    with pytest.raises(ValueError, match=r'cls_head.fc_cls.weight has shape \(5, 64\)'):
        load_into(wrong, str(path))


@pytest.mark.parametrize('config,total,tunable', [
    ('configs/recognition/vit/vitclip_base_k400.py', 97e6, 11e6),
    ('configs/recognition/vit/vitclip_large_k400.py', 341e6, 38e6),
])
def test_parameter_counts_match_the_paper(config, total, tunable):
    cfg = Config.fromfile(config)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert model.num_params == pytest.approx(total, rel=0.01)
    assert model.num_trainable == pytest.approx(tunable, rel=0.01)
