"""tools/analysis/memory_plan.py: the activation bytes it predicts on fake tensors are those a
real CPU training step keeps (every backbone family), its batch extrapolation is exact, and
its recommendation, options, JSON and errors are what they say."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from torch._subclasses.fake_tensor import FakeTensorMode

from mmaction.models.common.blocks import CheckpointOption
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmaction.utils.cli import run_tool
from mmaction.utils.memory import SavedTensors, model_tensors
from tests.helpers import TINY, tiny_backbone
from tools.analysis import memory_plan

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CONFIG = osp.join(ROOT, 'configs/recognition/vit/vitclip_tiny_synthetic.py')
SWIN = dict(embed_dim=16, depths=[2, 2], num_heads=[1, 2], window_size=4, drop_path_rate=0.1)
# (backbone, head width, frames, side) of a small model of each family
FAMILIES = {
    'ViT_CLIP': (tiny_backbone(drop_path_rate=0.1), TINY['width'], 4, 32),
    'ViT_ImageNet': (dict(type='ViT_ImageNet', img_size=32, patch_size=8, embed_dim=64,
                          depth=2, num_heads=4, num_frames=4, drop_path_rate=0.1), 64, 4, 32),
    'TimeSformer': (dict(type='TimeSformer', num_frames=4, drop_path_rate=0.1, **TINY),
                    TINY['width'], 4, 32),
    'SwinTransformer2D_Adapter': (dict(type='SwinTransformer2D_Adapter', patch_size=(2, 4, 4),
                                       num_frames=4, input_resolution=32, **SWIN), 32, 4, 32),
    'SwinTransformer2D': (dict(type='SwinTransformer2D', patch_size=(1, 4, 4),
                               input_resolution=32, **SWIN), 32, 4, 32),
    'SwinTransformer3D': (dict(type='SwinTransformer3D', patch_size=(2, 4, 4),
                               **dict(SWIN, window_size=(2, 4, 4))), 32, 4, 32),
}


# the image and Video Swins have no adapters: trained whole, as their configs offer
# (model.trainable_params=all); under AIM's rule only their head learns
WHOLE = ('SwinTransformer2D', 'SwinTransformer3D')


def model_cfg(family, trainable=None):
    backbone, width, _, _ = FAMILIES[family]
    model = dict(type='Recognizer3D', backbone=backbone,
                 cls_head=dict(type='I3DHead', in_channels=width, num_classes=5,
                               dropout_ratio=0.0))
    if trainable or family in WHOLE:
        model['trainable_params'] = trainable or 'all'
    return Config(dict(model=model))


def shape_of(family, views=1):
    _, _, frames, side = FAMILIES[family]
    return dict(views=views, frames=frames, height=side, width=side)


def real_step_bytes(cfg, shape, videos, precision, with_cp):
    """Bytes autograd keeps in a real CPU training step (forward + loss, then backward)."""
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    model.backbone.with_cp = with_cp
    dtype = memory_plan.PRECISIONS[precision]
    samples = []
    for _ in range(videos):
        sample = ActionDataSample()
        sample.set_gt_label(1)
        samples.append(sample)
    inputs = torch.randn(videos, shape['views'], 3, shape['frames'], shape['height'],
                         shape['width'])
    with SavedTensors(model_tensors(model)) as saved:
        with torch.autocast('cpu', dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            losses = model.loss(inputs, samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert any(p.grad is not None for p in model.parameters())
    return saved.bytes


CASES = [(f, 'fp32', cp) for f in FAMILIES for cp in memory_plan.WITH_CP] + \
    [('ViT_CLIP', 'bf16', False), ('ViT_CLIP', 'fp16', 'selective'),
     ('SwinTransformer2D_Adapter', 'bf16', False)]


@pytest.mark.parametrize('family,precision,with_cp', CASES)
def test_planned_activations_are_those_of_a_real_training_step(family, precision, with_cp):
    cfg = model_cfg(family)
    views = 2 if family == 'ViT_CLIP' else 1
    shape = shape_of(family, views)
    mode = FakeTensorMode()
    fake = memory_plan.build_fake(cfg, mode)
    planned = memory_plan.activation_bytes(fake, shape, 2, precision, with_cp, mode)
    real = real_step_bytes(cfg, shape, 2, precision, with_cp)
    assert planned == pytest.approx(real, rel=0.02)


@pytest.mark.parametrize('family', ['ViT_CLIP', 'SwinTransformer3D'])
def test_extrapolation_in_the_batch_equals_direct_counts(family, monkeypatch):
    cfg = model_cfg(family)
    monkeypatch.setattr(memory_plan, 'clip_shape', lambda cfg: shape_of(family))
    rows = memory_plan.plan(cfg, batches=(4, 6), precisions=('fp32', 'fp16', 'bf16'))['rows']
    mode = FakeTensorMode()
    fake = memory_plan.build_fake(cfg, mode)
    for row in rows:
        direct = memory_plan.activation_bytes(fake, shape_of(family), row['videos_per_gpu'],
                                              row['precision'], row['with_cp'], mode)
        assert row['activation_bytes'] == direct  # bf16's (counted as fp16's) too


def test_checkpointing_a_frozen_trunk_keeps_nothing_more(monkeypatch):
    """Video Swin under AIM's rule (head only): no block records a graph, so with_cp=True
    keeps what with_cp=False keeps (the head's input) and recomputes nothing."""
    cfg = model_cfg('SwinTransformer3D', trainable=['cls_head'])
    monkeypatch.setattr(memory_plan, 'clip_shape', lambda cfg: shape_of('SwinTransformer3D'))
    rows = memory_plan.plan(cfg, batches=(1, 4), precisions=('fp32', ))['rows']
    kept = {(r['videos_per_gpu'], r['with_cp']): r for r in rows}
    for n in (1, 4):
        head = kept[(n, False)]['activation_bytes']
        assert kept[(n, True)]['activation_bytes'] == head
        # the head's (n, 32) fp32 input and its loss's few bytes a video; a block's are 1000x
        assert n * 32 * 4 <= head <= n * 32 * 4 + 64 * n
        assert kept[(n, True)]['recompute_bytes'] == 0


def test_peak_is_the_stated_sum(monkeypatch):
    cfg = model_cfg('ViT_CLIP')
    monkeypatch.setattr(memory_plan, 'clip_shape', lambda cfg: shape_of('ViT_CLIP'))
    result = memory_plan.plan(cfg, batches=(1, ), precisions=('fp32', ))
    register_all_modules()
    model = MODELS.build(cfg.model)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert 0 < trainable < total  # AIM's rule, as the recognizer applies it
    fixed = 4 * total + 4 * trainable + 8 * trainable
    for row in result['rows']:
        act = row['activation_bytes']
        assert row['peak_bytes'] == fixed + act + row['recompute_bytes'] + \
            memory_plan.MARGIN_FIXED + int(memory_plan.MARGIN_FRACTION * act)
        assert (row['recompute_bytes'] > 0) == (row['with_cp'] is True)


def run_main(argv):
    result = {}

    def main(argv):
        result.update(memory_plan.main(argv))
    return run_tool(main, argv), result


def test_recommendation_and_recipe_options_on_a_card_where_only_some_rows_fit(tmp_path,
                                                                               capsys):
    # the tiny config at 4 videos per GPU x update_interval 2: 4 x 8 GPUs x 2 = 64 per update
    options = ['--cfg-options', 'data.videos_per_gpu=4', 'optimizer_config.update_interval=2']
    out = tmp_path / 'plan.json'
    assert run_main([TINY_CONFIG, '--json', str(out)] + options)[0] == 0
    rows = json.loads(out.read_text())
    peak = {(r['videos_per_gpu'], r['precision'], r['with_cp']): r['peak_bytes'] for r in rows}
    # a card just big enough for 2 videos in fp32 without checkpointing
    card = peak[(2, 'fp32', False)] / 2**30
    assert peak[(4, 'fp32', False)] > peak[(2, 'fp32', False)]
    capsys.readouterr()
    code, result = run_main([TINY_CONFIG, '--gpu-memory', repr(card), '--gpus', '2'] + options)
    text = capsys.readouterr().out
    assert code == 0 and result['precision'] == 'fp32'
    rec = result['recommended']
    assert (rec['videos_per_gpu'], rec['precision'], rec['with_cp']) == (2, 'fp32', False)
    # 64 = 2 videos x 2 GPUs x 16
    assert ('--cfg-options data.videos_per_gpu=2 optimizer_config.update_interval=16'
            in text)
    assert all(r['fits'] == (r['peak_bytes'] <= card * 2**30) for r in result['rows'])
    assert {r['fits'] for r in result['rows']} == {True, False}
    # a card too small for 1 video without checkpointing: 'selective', then True
    for row in rows:
        row['fits'] = row['peak_bytes'] <= peak[(1, 'fp32', 'selective')]
    assert memory_plan.recommend(rows, 'fp32')['with_cp'] == 'selective'
    for row in rows:
        row['fits'] = row['with_cp'] is True and row['videos_per_gpu'] <= 4
    rec = memory_plan.recommend(rows, 'fp32')
    assert (rec['videos_per_gpu'], rec['with_cp']) == (4, True)
    assert memory_plan.recommend(rows, 'fp16')['precision'] == 'fp16'


def test_json_rows_have_the_documented_schema(tmp_path):
    out = tmp_path / 'plan.json'
    assert run_main([TINY_CONFIG, '--json', str(out), '--gpu-memory', '80'])[0] == 0
    rows = json.loads(out.read_text())
    assert len(rows) == 4 * 3 * 3
    assert {(r['videos_per_gpu'], r['precision'], json.dumps(r['with_cp'])) for r in rows} == {
        (n, p, cp) for n in (1, 2, 4, 8) for p in ('fp32', 'fp16', 'bf16')
        for cp in ('false', '"selective"', 'true')}
    for row in rows:
        assert {'videos_per_gpu', 'precision', 'with_cp', 'activation_bytes', 'peak_bytes',
                'fits'} <= row.keys()
        assert isinstance(row['activation_bytes'], int) and row['fits'] is True
        assert row['peak_bytes'] > row['activation_bytes'] > 0


@MODELS.register_module(force=True)
class _DataDependentBackbone(CheckpointOption, torch.nn.Module):
    """A backbone whose forward depends on a tensor's value: fake tensors cannot run it."""

    def __init__(self, **kwargs):
        super().__init__()
        self.proj = torch.nn.Linear(3, 8)
        self.with_cp = False

    def forward(self, x):
        scale = float(x.abs().max())  # the value decides: no fake tensor has one
        return self.proj(x.mean((2, 3, 4)) * scale)[:, :, None, None, None]


def test_an_unplannable_model_gets_a_message_naming_it_and_exit_2(tmp_path, capsys):
    config = tmp_path / 'odd.py'
    config.write_text(f"_base_ = [{TINY_CONFIG!r}]\n"
                      "model = dict(backbone=dict(_delete_=True, type='_DataDependentBackbone'),"
                      " cls_head=dict(in_channels=8))\n")
    code, result = run_main([str(config), '--json', str(tmp_path / 'p.json')])
    err = capsys.readouterr().err
    assert code == 2 and result == {}
    assert "model.backbone.type='_DataDependentBackbone' cannot be planned" in err
    assert 'fake training forward failed' in err
    assert not (tmp_path / 'p.json').exists()
