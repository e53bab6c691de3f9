"""Checks before any work starts: --cfg-options typos, num_frames/clip_len, num_classes."""
import glob
import re
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmaction.engine import apply_cfg_options, translate_config
from mmaction.engine.config.schema import ConfigError, frame_samplers

CONFIGS = sorted(glob.glob('configs/recognition/vit/*.py'))
DIVING = 'configs/recognition/vit/vitclip_base_diving48.py'


def _clip_lens(cfg):
    return {path: step['clip_len'] for path, step in frame_samplers(cfg.to_dict())}


@pytest.mark.parametrize('key, closest', [
    ('model.backbone.num_frame', 'model.backbone.num_frames'),
    ('data.video_per_gpu', 'data.videos_per_gpu'),
    ('work_dirs', 'work_dir'),
    ('model.backbon.pretrained', 'model.backbone.pretrained'),
    ('lr_config.warmup_iter', 'lr_config.warmup_iters'),
    ('optimizer_config.update_intervals', 'optimizer_config.update_interval'),
])
def test_typo_in_cfg_options_fails_naming_the_closest_key(key, closest):
    cfg = Config.fromfile(DIVING)
    with pytest.raises(ConfigError) as err:
        apply_cfg_options(cfg, {key: 1})
    assert f"Did you mean '{closest}'" in str(err.value)
    assert f'--cfg-options {key}' in str(err.value)


@pytest.mark.parametrize('config', CONFIGS)
def test_aim_readme_options_exist_in_every_config_and_it_translates(config):
    cfg = Config.fromfile(config)
    apply_cfg_options(cfg, {'model.backbone.pretrained': 'openaiclip',
                            'work_dir': 'work_dirs_vit/x', 'data.videos_per_gpu': 8,
                            'model.backbone.with_cp': True,  # a ViT_CLIP argument
                            'optimizer_config.grad_clip.max_norm': 20.0})
    out = translate_config(cfg)
    assert out.work_dir == 'work_dirs_vit/x' and out.train_dataloader.batch_size == 8
    assert out.model.backbone.with_cp is True
    assert out.optim_wrapper.clip_grad.max_norm == 20.0
    pre = out.model.data_preprocessor  # the pipelines' Normalize values, moved to the device
    assert pre.mean == cfg.img_norm_cfg.mean and pre.std == cfg.img_norm_cfg.std
    assert pre.format_shape == 'NCTHW' and pre.to_rgb is False


def test_num_frames_alone_sets_every_clip_len_and_says_so(mmlog):
    cfg = Config.fromfile(DIVING)
    assert set(_clip_lens(cfg).values()) == {32}
    apply_cfg_options(cfg, {'model.backbone.num_frames': 3, 'data.videos_per_gpu': 8})
    lens = _clip_lens(cfg)
    assert set(lens) == {'data.train.pipeline.1', 'data.val.pipeline.1', 'data.test.pipeline.1'}
    assert set(lens.values()) == {3}
    assert 'data.train.pipeline.1.clip_len: 32 -> 3' in mmlog.text


def test_override_of_the_pipeline_variable_reaches_the_dataset(mmlog):
    cfg = Config.fromfile(DIVING)
    apply_cfg_options(cfg, {'model.backbone.num_frames': 16, 'train_pipeline.1.clip_len': 16,
                            'val_pipeline.1.clip_len': 16, 'test_pipeline.1.clip_len': 16})
    assert set(_clip_lens(cfg).values()) == {16}
    assert 'also sets data.train.pipeline.1.clip_len' in mmlog.text


def _write_config(tmp_path, body):
    path = tmp_path / 'cfg.py'
    path.write_text(f"_base_ = ['{__import__('os').path.abspath(DIVING)}']\n" + body)
    return str(path)


def test_config_file_whose_clip_len_and_num_frames_disagree_is_refused_with_the_fix(tmp_path):
    path = _write_config(tmp_path, 'model = dict(backbone=dict(num_frames=16))\n')
    with pytest.raises(ConfigError) as err:
        apply_cfg_options(Config.fromfile(path), {})
    message = str(err.value)
    assert 'model.backbone.num_frames=16' in message and f'{path}:2' in message
    assert 'data.train.pipeline.1.clip_len=32' in message
    fixes = re.findall(r'`--cfg-options ([\w.]+)=(\d+)`', message)
    assert ('model.backbone.num_frames', '32') in fixes
    for key, value in fixes:  # each suggested fix is accepted
        cfg = apply_cfg_options(Config.fromfile(path), {key: int(value)})
        assert set(_clip_lens(cfg).values()) == {cfg.model.backbone.num_frames}


def test_options_that_contradict_each_other_are_refused():
    with pytest.raises(ConfigError, match='data.val.pipeline.1.clip_len=32'):
        apply_cfg_options(Config.fromfile(DIVING), {'model.backbone.num_frames': 8,
                                                     'data.train.pipeline.1.clip_len': 8})


def test_num_classes_of_head_and_blending_must_agree(tmp_path):
    path = _write_config(tmp_path, "model = dict(train_cfg=dict(blending=dict("
                                   "type='LabelSmoothing', num_classes=400)))\n")
    with pytest.raises(ConfigError, match=r'blending.num_classes=400 but '
                                          r'model.cls_head.num_classes=48'):
        apply_cfg_options(Config.fromfile(path), {})


@pytest.mark.parametrize('tool', ['tools/train.py'])
def test_train_clip_len_argument_explains_it_is_not_needed(tool):
    out = subprocess.run([sys.executable, tool, DIVING, '--train_clip_len',
                          '{"1": {"clip_len": 3}}'], capture_output=True, text=True)
    assert out.returncode != 0
    assert 'model.backbone.num_frames=N' in out.stderr and 'not needed' in out.stderr


def test_mixed_dialects_are_refused():
    cfg = Config.fromfile(DIVING)
    cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
    with pytest.raises(ConfigError, match='mixes'):
        translate_config(cfg)


def test_keys_the_translation_does_not_read_are_refused():
    cfg = Config.fromfile(DIVING)
    cfg.evaluation['intervall'] = 3
    with pytest.raises(ConfigError, match=r"evaluation has keys .* \['intervall'\]"):
        translate_config(cfg)


def test_pipelines_that_normalise_differently_are_refused():
    cfg = Config.fromfile(DIVING)
    cfg.data.test.pipeline[6].mean = [0.0, 0.0, 0.0]
    with pytest.raises(ConfigError, match='normalise differently'):
        translate_config(cfg)


def test_mmengine_dialect_config_passes_through():
    original = dict(
        model=dict(type='Recognizer3D', backbone=dict(type='ViT_CLIP'),
                   cls_head=dict(type='I3DHead', num_classes=4, in_channels=768)),
        train_dataloader=dict(batch_size=4, num_workers=2, sampler=dict(type='DefaultSampler'),
                              dataset=dict(type='VideoDataset', ann_file='a.txt', pipeline=[])),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        param_scheduler=[dict(type='MultiStepLR', milestones=[1])],
        train_cfg=dict(by_epoch=True, max_epochs=2),
        custom_hooks=[dict(type='EpochSeedHook')])
    out = translate_config(Config(original)).to_dict()
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert out[key] == original[key]
    # the one addition: the head's class count, so the list's labels are checked on reading
    assert out['train_dataloader'].pop('dataset').pop('num_classes') == 4
    assert out['train_dataloader'] == {k: v for k, v in original['train_dataloader'].items()
                                       if k != 'dataset'}
    assert out['default_scope'] == 'mmaction'
    hooks = [h['type'] for h in out['custom_hooks']]
    assert hooks.count('EpochSeedHook') == 1 and 'NonFiniteLossHook' in hooks


def test_dataset_labels_are_checked_against_the_head(tmp_path):
    """A label the head cannot predict fails when the list is read, naming file and line,
    instead of as an index error inside the loss (seen with a 4-class list on a 2-class
    config)."""
    from mmaction.registry import DATASETS
    ann = tmp_path / 'train.txt'
    ann.write_text('a.mp4 1\nb.mp4 48\n')
    cfg = Config.fromfile(DIVING)
    apply_cfg_options(cfg, {'data.train.ann_file': str(ann), 'data.train.data_prefix': ''})
    out = translate_config(cfg)
    assert out.train_dataloader.dataset.num_classes == 48
    with pytest.raises(ValueError, match=rf'{ann}:2'):
        DATASETS.build(out.train_dataloader.dataset)


K400 = 'configs/recognition/vit/vitclip_base_k400.py'


@pytest.mark.parametrize('decoder', ['PyAVInit', 'DecordInit', 'RawFrameDecode'])
def test_unknown_key_of_a_decoder_step_is_refused_though_it_takes_kwargs(decoder):
    """The decoders forward **kwargs to the file backend: a typo there made every video
    unreadable, reported as corrupt data."""
    from mmaction.registry import TRANSFORMS
    cfg = Config.fromfile(K400)
    cfg.data.train.pipeline[0] = dict(type=decoder)
    with pytest.raises(ConfigError, match=rf"\({decoder}\) does not take 'foo'.*also takes: "
                                          r'.*io_backend'):
        apply_cfg_options(cfg, {'data.train.pipeline.0.foo': 1})
    with pytest.raises(ValueError, match=rf"{decoder}: foo is not an argument of {decoder} or "
                                         r"of its 'disk' file backend, which takes no "
                                         r'arguments'):
        TRANSFORMS.build(dict(type=decoder, foo=1))  # the same typo in a config file
    # what the backend takes is accepted, for the backend named
    apply_cfg_options(cfg, {'data.train.pipeline.0.io_backend': 'petrel',
                            'data.train.pipeline.0.enable_mc': False})
    with pytest.raises(ConfigError, match="Did you mean 'data.train.pipeline.0.enable_mc'"):
        apply_cfg_options(cfg, {'data.train.pipeline.0.enable_mcc': False})


@pytest.mark.parametrize('key, listed', [
    ('foo', "The keys at the top level are: ann_file_test, ann_file_train"),
    ('data.train.pipeline.0.foo', "The keys at data.train.pipeline.0 are: type. "
                                  "data.train.pipeline.0 (PyAVInit) also takes: "
                                  "index_cache_mb, io_backend."),
    ('model.backbone.foo', 'The keys at model.backbone are: adapter_scale, drop_path_rate'),
])
def test_a_key_close_to_none_lists_the_keys_of_its_level_instead_of_a_guess(key, listed):
    with pytest.raises(ConfigError) as err:
        apply_cfg_options(Config.fromfile(K400), {key: 1})
    assert 'Did you mean' not in str(err.value)
    assert listed in str(err.value)


def test_a_section_the_receiving_class_takes_can_be_added():
    """K400's model has no train_cfg; Recognizer3D takes one."""
    cfg = apply_cfg_options(Config.fromfile(K400), {
        'model.train_cfg.blending.type': 'LabelSmoothing',
        'model.train_cfg.blending.num_classes': 400,
        'model.train_cfg.blending.smoothing': 0.2})
    model_cfg = translate_config(cfg).model
    assert model_cfg.train_cfg == dict(blending=dict(type='LabelSmoothing', num_classes=400,
                                                     smoothing=0.2))
    import torch

    from mmaction.models.blending import LabelSmoothing
    from mmaction.registry import MODELS
    with torch.device('meta'):
        model = MODELS.build(model_cfg)
    assert isinstance(model.blending, LabelSmoothing) and model.blending.smoothing == 0.2
    with pytest.raises(ConfigError, match="LabelSmoothing.*does not take 'alpha'"):
        apply_cfg_options(Config.fromfile(K400), {'model.train_cfg.blending.type':
                                                  'LabelSmoothing',
                                                  'model.train_cfg.blending.alpha': 1.0})
    with pytest.raises(ConfigError, match='blending.num_classes=400'):  # the fix, named
        apply_cfg_options(Config.fromfile(K400), {'model.train_cfg.blending.type':
                                                  'LabelSmoothing'})


@pytest.mark.parametrize('key, value, message', [
    ('data.videos_per_gpu', 'two', "data.videos_per_gpu takes a number \\(the config has "
                                   "data.videos_per_gpu=8\\), not a string \\('two'\\)"),
    ('model.backbone.with_cp', 'yes', r"takes True or False \(model.backbone \(ViT_CLIP\) "
                                      r"parameter 'with_cp'\)"),
    ('optimizer.lr', '3e-4x', 'optimizer.lr takes a number'),
    ('model.backbone', 5, 'model.backbone takes a dict'),
])
def test_values_of_the_wrong_kind_are_refused(key, value, message):
    with pytest.raises(ConfigError, match=message):
        apply_cfg_options(Config.fromfile(K400), {key: value})


def test_a_config_file_with_a_non_integer_batch_is_refused():
    cfg = Config.fromfile(K400)
    cfg.data.videos_per_gpu = 'two'
    with pytest.raises(ConfigError, match=r"data.videos_per_gpu must be an integer >= 1, got "
                                          r"'two'"):
        translate_config(cfg)
