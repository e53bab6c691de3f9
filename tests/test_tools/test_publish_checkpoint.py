"""tools/publish_checkpoint.py: the weights of a training checkpoint for release, named with
the first 8 hex digits of the file's sha256 as mmaction2's model zoo names its files."""
import hashlib
import importlib.util
import os
import os.path as osp
import re

import pytest
import torch

from mmaction.checkpoint import CheckpointError
from mmaction.engine import ActionRunner
from tests.helpers import make_clip_tower, write_clip_file
from tests.test_engine.engine_helpers import make_batch, tiny_model_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'publish_checkpoint', osp.join(ROOT, 'tools', 'publish_checkpoint.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Clips(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        batch = make_batch(1, seed=i)
        return dict(inputs=batch['inputs'][0], data_samples=batch['data_samples'][0])


def _runner(work_dir, clip, name, **kw):
    model = tiny_model_cfg()
    model['backbone']['pretrained'] = clip
    return ActionRunner(
        model=model, work_dir=str(work_dir), default_scope='mmaction',
        experiment_name=name,
        train_dataloader=dict(dataset=_Clips(), batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2),
                           constructor='TrainableParamsOptimWrapperConstructor'),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1,
                                           save_tunable_only=True)),
        randomness=dict(seed=0), **kw)


def test_published_file_holds_the_weights_without_optimizer_named_by_its_sha256(
        tmp_path, capsys):
    clip = write_clip_file(tmp_path / 'clip.pt', make_clip_tower(seed=1), jit=False)
    trained = _runner(tmp_path / 'work', clip, 'publish_train')
    trained.train()
    src = tmp_path / 'work' / 'epoch_1.pth'
    source = torch.load(src, weights_only=True)
    assert {'optimizer', 'state_dict', 'meta'} <= set(source)

    assert _tool().main([str(src), str(tmp_path / 'aim_tiny.pth')]) == 0
    (name, ) = [n for n in os.listdir(tmp_path) if n.startswith('aim_tiny')]  # nothing else
    published = tmp_path / name
    sha256 = hashlib.sha256(published.read_bytes()).hexdigest()
    assert name == f'aim_tiny-{sha256[:8]}.pth'
    assert f'sha256 {sha256}' in capsys.readouterr().out
    saved = torch.load(published, weights_only=True)
    assert set(saved) == {'meta', 'state_dict'}
    assert saved['state_dict'].keys() == source['state_dict'].keys()
    for key, value in source['state_dict'].items():
        assert torch.equal(saved['state_dict'][key], value), key
    assert 'rng' not in saved['meta'] and saved['meta']['save_tunable_only']['pretrained'] == clip
    assert published.stat().st_size < src.stat().st_size / 2  # AdamW kept two moments each

    # it loads as a save_tunable_only checkpoint: on top of the pretrained backbone
    tester = _runner(tmp_path / 'test', clip, 'publish_test')
    tester.load_checkpoint(str(published))
    for key, value in trained.model.state_dict().items():
        assert torch.equal(tester.model.state_dict()[key], value), key


def test_a_file_that_is_no_training_checkpoint_is_refused(tmp_path):
    torch.save({'weights': torch.zeros(2)}, tmp_path / 'other.pth')
    with pytest.raises(CheckpointError, match=re.escape("expected a checkpoint {'meta'")):
        _tool().main([str(tmp_path / 'other.pth'), str(tmp_path / 'out.pth')])
    assert sorted(os.listdir(tmp_path)) == ['other.pth']
