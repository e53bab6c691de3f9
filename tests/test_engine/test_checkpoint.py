"""Checkpoint files: plain (weights_only) format, atomic writes, latest-checkpoint lookup,
save_tunable_only round trip on top of the pretrained backbone."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner

from mmaction.checkpoint import TUNABLE_ONLY_KEY, find_latest_checkpoint, read_checkpoint
from mmaction.engine import ActionRunner
from mmaction.engine.hooks import CheckpointHook, PlainCheckpointHook
from mmaction.registry import MODELS
from tests.helpers import make_clip_tower, write_clip_file
from tests.test_engine.engine_helpers import tiny_model_cfg


class _Runner:
    """What the checkpoint hooks read from a runner."""

    def __init__(self, model):
        self.model = model


def _save(model, path, tunable_only):
    checkpoint = {'meta': {'epoch': 3, 'seed': np.int64(7)},
                  'state_dict': model.state_dict(),
                  'message_hub': {'log_scalars': {'train/loss': HistoryBuffer()},
                                  'runtime_info': {'best_score': np.float64(0.5)},
                                  'resumed_keys': {}}}
    checkpoint['message_hub']['log_scalars']['train/loss'].update(1.25)
    CheckpointHook(save_tunable_only=tunable_only).before_save_checkpoint(
        _Runner(model), checkpoint)
    PlainCheckpointHook().before_save_checkpoint(_Runner(model), checkpoint)
    torch.save(checkpoint, path)


def test_our_checkpoints_need_no_allow_list_and_keep_the_message_hub(tmp_path):
    model = MODELS.build(tiny_model_cfg())
    path = str(tmp_path / 'epoch_3.pth')
    _save(model, path, tunable_only=False)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    ckpt = read_checkpoint(path)
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and buffer.current() == 1.25
    assert ckpt['meta']['seed'] == 7 and ckpt['message_hub']['runtime_info']['best_score'] == .5
    assert ckpt['state_dict'].keys() == model.state_dict().keys()


class Untrusted:
    pass


def test_file_with_pickled_objects_is_refused_with_instructions(tmp_path):
    path = str(tmp_path / 'foreign.pth')
    torch.save({'state_dict': {}, 'meta': {'obj': Untrusted()}}, path)
    with pytest.raises(ValueError, match=r'weights_only=True.*extract its weights'):
        read_checkpoint(path)


def test_find_latest_checkpoint(tmp_path):
    work = str(tmp_path)
    assert find_latest_checkpoint(work) is None
    for name in ('epoch_2.pth', 'epoch_10.pth', 'best_acc_top1_epoch_3.pth',
                 '.epoch_11.pth.123.tmp'):
        torch.save({'meta': {}}, tmp_path / name)
    assert find_latest_checkpoint(work) == osp.join(work, 'epoch_10.pth')
    (tmp_path / 'last_checkpoint').write_text(osp.join(work, 'epoch_2.pth'))
    assert find_latest_checkpoint(work) == osp.join(work, 'epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text('/moved/elsewhere/epoch_2.pth')
    assert find_latest_checkpoint(work) == osp.join(work, 'epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text('')  # interrupted while writing the pointer
    assert find_latest_checkpoint(work) == osp.join(work, 'epoch_10.pth')


def test_find_latest_checkpoint_passes_over_a_truncated_one_and_says_why(tmp_path):
    work = str(tmp_path)
    for name in ('epoch_1.pth', 'iter_4.pth', 'epoch_2.pth'):
        torch.save({'meta': {}, 'state_dict': {'w': torch.zeros(1000)}}, tmp_path / name)
    data = (tmp_path / 'iter_4.pth').read_bytes()
    (tmp_path / 'iter_4.pth').write_bytes(data[:1000])  # e.g. a copy cut short
    (tmp_path / 'epoch_2.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(osp.join(work, 'iter_4.pth'))
    skipped = []
    assert find_latest_checkpoint(work, skipped) == osp.join(work, 'epoch_1.pth')
    assert skipped == [
        (osp.join(work, 'iter_4.pth'),
         'truncated: a torch zip archive cut short at 1000 bytes (the zip directory that ends '
         'a complete file is missing, and the full size is recorded only there); copy it '
         'again or use an earlier checkpoint'),
        (osp.join(work, 'epoch_2.pth'), 'the file is empty (0 bytes)')]


def test_crash_while_saving_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    final = tmp_path / 'epoch_1.pth'
    final.write_bytes(b'complete earlier checkpoint')

    def crash(self, out_dir, filename, *args, **kwargs):
        with open(osp.join(out_dir, filename), 'wb') as f:
            f.write(b'half a check')
        raise KeyboardInterrupt('killed mid-save')

    monkeypatch.setattr(Runner, 'save_checkpoint', crash)
    runner = ActionRunner.__new__(ActionRunner)  # only save_checkpoint is exercised
    with pytest.raises(KeyboardInterrupt):
        runner.save_checkpoint(str(tmp_path), 'epoch_1.pth')
    assert final.read_bytes() == b'complete earlier checkpoint'
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth']

    def complete(self, out_dir, filename, *args, **kwargs):
        with open(osp.join(out_dir, filename), 'wb') as f:
            f.write(b'new checkpoint')

    monkeypatch.setattr(Runner, 'save_checkpoint', complete)
    runner.save_checkpoint(str(tmp_path), 'epoch_1.pth')
    assert final.read_bytes() == b'new checkpoint'
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth']


@pytest.fixture
def clip_file(tmp_path):
    """A tiny image model saved in OpenAI's CLIP layout: the 'pretrained' weights."""
    return write_clip_file(tmp_path / 'tiny_clip.pt', make_clip_tower(seed=123), jit=False)


def _runner(tmp_path, **model_kw):
    cfg = tiny_model_cfg()
    cfg['backbone'].update(model_kw.pop('backbone', {}))
    cfg.update(model_kw)
    _runner.count = getattr(_runner, 'count', 0) + 1
    return ActionRunner(model=cfg, work_dir=str(tmp_path / 'work'), default_scope='mmaction',
                        experiment_name=f'{tmp_path.name}_{_runner.count}')


def test_save_tunable_only_round_trip(tmp_path, clip_file):
    trained = MODELS.build(dict(tiny_model_cfg(), backbone=dict(
        tiny_model_cfg()['backbone'], pretrained=clip_file)))
    trained.init_weights()
    with torch.no_grad():  # "training" changes the trainable parameters only
        for p in trained.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p))
    full_path, tunable_path = str(tmp_path / 'full.pth'), str(tmp_path / 'tunable.pth')
    _save(trained, full_path, tunable_only=False)
    _save(trained, tunable_path, tunable_only=True)

    saved = torch.load(tunable_path, weights_only=True)
    trainable = {n for n, p in trained.named_parameters() if p.requires_grad}
    frozen = {n for n, p in trained.named_parameters() if not p.requires_grad}
    assert set(saved['state_dict']) == trainable  # the tiny ViT has no buffers
    assert saved['meta'][TUNABLE_ONLY_KEY]['omitted'] == len(frozen)
    assert os.path.getsize(tunable_path) < os.path.getsize(full_path) / 3

    runner = _runner(tmp_path, backbone=dict(pretrained=clip_file))
    runner.load_checkpoint(tunable_path)
    loaded = runner.model.state_dict()
    for key, value in trained.state_dict().items():
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0)


def test_tunable_only_checkpoint_needs_the_pretrained_backbone(tmp_path, clip_file):
    model = MODELS.build(tiny_model_cfg())
    path = str(tmp_path / 'tunable.pth')
    _save(model, path, tunable_only=True)
    with pytest.raises(ValueError, match='model.backbone.pretrained is not set'):
        _runner(tmp_path).load_checkpoint(path)
    with pytest.raises(ValueError, match='trainable_params'):
        _runner(tmp_path, backbone=dict(pretrained=clip_file),
                trainable_params='all').load_checkpoint(path)


def test_released_aim_style_checkpoint_loads(tmp_path):
    """mmcv 1.x layout: {'meta': {...}, 'state_dict': {...}, 'optimizer': {...}}."""
    model = MODELS.build(tiny_model_cfg())
    path = str(tmp_path / 'aim.pth')
    torch.save({'meta': {'mmcv_version': '1.3.0', 'epoch': 30, 'CLASSES': None},
                'state_dict': {k: v.clone() for k, v in model.state_dict().items()},
                'optimizer': {'state': {}, 'param_groups': []}}, path)
    runner = _runner(tmp_path)
    runner.load_checkpoint(path)
    for key, value in model.state_dict().items():
        assert torch.equal(runner.model.state_dict()[key], value)
