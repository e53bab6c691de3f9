"""A checkpoint in the layout of AIM's released 32-frame ViT-B/16 K400 models tests with the
config of its name, configs/recognition/vit/vitclip_base_k400.py, loaded strictly.

The file is written from the key names and shapes of reference/checkpoint_keys.md (not from
our model). Its tensors are constants expanded without copies, so the file is small; the
classifier's weight is zero and its bias a ramp, so every view scores softmax(bias) whatever
the backbone computes: the scores tell whether the head came from the file.
"""
import importlib.util
import os.path as osp
import pickle

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/recognition/vit/vitclip_base_k400.py'


def _const(*shape, value=0.01):
    return torch.full((1, ), float(value)).expand(*shape)


def released_vitb16_state_dict(num_frames=32, num_classes=400):
    """AIM's key names and shapes for ViT-B/16 (width 768, 12 blocks, patch 16, 224 px)."""
    d, p, hidden, bottleneck = 768, 16, 4 * 768, 768 // 4
    sd = {'backbone.class_embedding': _const(d),
          'backbone.positional_embedding': _const(1 + (224 // p)**2, d),
          'backbone.temporal_embedding': _const(1, num_frames, d),
          'backbone.conv1.weight': _const(d, 3, p, p),
          'cls_head.fc_cls.weight': _const(num_classes, d, value=0),
          'cls_head.fc_cls.bias': torch.linspace(-1, 1, num_classes)}
    for norm in ('ln_pre', 'ln_post'):
        sd[f'backbone.{norm}.weight'], sd[f'backbone.{norm}.bias'] = _const(d, value=1), _const(d)
    for i in range(12):
        b = f'backbone.transformer.resblocks.{i}.'
        sd.update({b + 'attn.in_proj_weight': _const(3 * d, d),
                   b + 'attn.in_proj_bias': _const(3 * d),
                   b + 'attn.out_proj.weight': _const(d, d), b + 'attn.out_proj.bias': _const(d),
                   b + 'mlp.c_fc.weight': _const(hidden, d), b + 'mlp.c_fc.bias': _const(hidden),
                   b + 'mlp.c_proj.weight': _const(d, hidden), b + 'mlp.c_proj.bias': _const(d)})
        for norm in ('ln_1', 'ln_2'):
            sd[b + f'{norm}.weight'], sd[b + f'{norm}.bias'] = _const(d, value=1), _const(d)
        for adapter in ('S_Adapter', 'T_Adapter', 'MLP_Adapter'):
            a = b + adapter
            sd.update({a + '.D_fc1.weight': _const(bottleneck, d),
                       a + '.D_fc1.bias': _const(bottleneck),
                       a + '.D_fc2.weight': _const(d, bottleneck), a + '.D_fc2.bias': _const(d)})
    return sd


def _test_tool():
    spec = importlib.util.spec_from_file_location('tool_test', osp.join(ROOT, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def released(tmp_path):
    path = tmp_path / 'aim_vitb16_k400_32x4.pth'
    torch.save({'meta': {'mmcv_version': '1.3.17', 'epoch': 30},
                'state_dict': released_vitb16_state_dict()}, path)
    assert path.stat().st_size < 2**20  # constants: the file holds shapes, not 97M floats
    return path


def _video(tmp_path):
    from tests.test_configs.test_aim_recipes import _write_video
    _write_video(tmp_path / 'a.mp4', frames=140)
    (tmp_path / 'list.txt').write_text('a.mp4 399\n')
    return ['data.test.ann_file=' + str(tmp_path / 'list.txt'),
            'data.test.data_prefix=' + str(tmp_path)]


def _run(tmp_path, released, *options):
    out = tmp_path / 'scores.pkl'
    metrics = _test_tool().main([CONFIG, str(released), '--eval', 'top_k_accuracy', '--out',
                                 str(out), '--work-dir', str(tmp_path / 'work'),
                                 '--cfg-options', *_video(tmp_path), *options])
    with open(out, 'rb') as f:
        return metrics, pickle.load(f)


def test_released_32_frame_checkpoint_tests_strictly_with_the_config_of_its_name(
        tmp_path, released, mmlog):
    # 3 clips x 32 frames as the config samples them; frames cut to 32 px (positional
    # embedding interpolated) so that the 3 x 32-frame forward is cheap on a CPU
    metrics, scores = _run(tmp_path, released, 'data.test.pipeline.3.scale=(-1,32)',
                           'data.test.pipeline.4.crop_size=32')
    (video_scores, ) = scores
    expected = torch.softmax(torch.linspace(-1, 1, 400), 0)
    torch.testing.assert_close(torch.as_tensor(video_scores), expected, rtol=1e-5, atol=1e-7)
    assert metrics['top1_acc'] == 1.0  # label 399: the largest bias
    assert 'interpolating it linearly' not in mmlog.text  # 32-frame embedding, 32-frame clips


def test_a_checkpoint_missing_a_key_is_refused(tmp_path):
    sd = released_vitb16_state_dict()
    del sd['backbone.transformer.resblocks.3.T_Adapter.D_fc2.bias']
    path = tmp_path / 'incomplete.pth'
    torch.save({'meta': {}, 'state_dict': sd}, path)
    from mmaction.checkpoint import CheckpointError
    with pytest.raises(CheckpointError, match='T_Adapter.D_fc2.bias'):
        _run(tmp_path, path, 'data.test.pipeline.3.scale=(-1,32)',
             'data.test.pipeline.4.crop_size=32')


def test_an_8_frame_config_tests_the_32_frame_checkpoint_resampled(tmp_path, released):
    metrics, (video_scores, ) = _run(tmp_path, released, 'model.backbone.num_frames=8',
                                     'data.test.pipeline.3.scale=(-1,32)',
                                     'data.test.pipeline.4.crop_size=32')
    (log, ) = (tmp_path / 'work').glob('*/*.log')
    assert 'interpolated it linearly from T=32 to T=8' in log.read_text()
    torch.testing.assert_close(torch.as_tensor(video_scores),
                               torch.softmax(torch.linspace(-1, 1, 400), 0), rtol=1e-5,
                               atol=1e-7)


@pytest.mark.slow
def test_released_checkpoint_tests_at_full_size(tmp_path, released):
    """The config unchanged: 3 clips x 32 frames x 224 x 224 (about 2 minutes on 2 cores)."""
    metrics, (video_scores, ) = _run(tmp_path, released)
    torch.testing.assert_close(torch.as_tensor(video_scores),
                               torch.softmax(torch.linspace(-1, 1, 400), 0), rtol=1e-5,
                               atol=1e-7)
