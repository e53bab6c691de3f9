"""Engine hooks: non-finite loss stop, per-epoch seeding, worker seeding."""
import os

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from torch.utils.data import DataLoader, Dataset

from mmaction.engine.hooks import EpochSeedHook, NonFiniteLossError, NonFiniteLossHook
from mmaction.utils.randomness import seed_worker


class _Wrapper:
    def __init__(self, scaler=None):
        if scaler is not None:
            self.loss_scaler = scaler

    def get_lr(self):
        return {'lr': [2.5e-4, 2.5e-4]}


class _Scaler:
    def __init__(self, scale=65536.0):
        self.scale = scale

    def get_scale(self):
        return self.scale


class _Runner:
    def __init__(self, work_dir, scaler=None):
        self.work_dir = work_dir
        self.optim_wrapper = _Wrapper(scaler)
        self.message_hub = MessageHub.get_instance(f'hooks_{id(self)}')
        self.train_dataloader = list(range(40))
        self.epoch, self.iter, self.distributed = 2, 97, False
        self.logger = MMLogger.get_current_instance()
        self.seed = 5
        self._randomness_cfg = {}


def _step(hook, runner, loss, batch_idx):
    hook.after_train_iter(runner, batch_idx, outputs={'loss': torch.as_tensor(loss)})
    runner.iter += 1


def test_non_finite_loss_stops_naming_iteration_lr_and_last_checkpoint(tmp_path):
    torch.save({}, tmp_path / 'epoch_2.pth')  # an intact file: a broken one is passed over
    runner, hook = _Runner(str(tmp_path)), NonFiniteLossHook(interval=20)
    hook.before_train(runner)
    _step(hook, runner, 1.5, batch_idx=17)  # global iteration 98
    _step(hook, runner, float('nan'), batch_idx=18)  # 99: noticed at the next check ...
    with pytest.raises(NonFiniteLossError) as err:
        _step(hook, runner, 1.0, batch_idx=19)  # ... after 20 batches of the epoch
    message = str(err.value)
    assert 'Non-finite loss (nan) at epoch 3, iteration 19/40 (global iteration 99)' in message
    assert 'lr 0.00025' in message
    assert f'--resume-from {tmp_path / "epoch_2.pth"}' in message


def test_losses_are_checked_every_interval_and_at_the_end_of_the_epoch(tmp_path, monkeypatch):
    """The hook reads the losses back (and, under DDP, reduces them) once per interval and at
    the end of the epoch, not at every iteration."""
    import mmaction.engine.hooks.non_finite_loss_hook as module
    reductions = []
    monkeypatch.setattr(module, 'all_reduce', lambda t, op: reductions.append(t.shape))
    runner, hook = _Runner(str(tmp_path)), NonFiniteLossHook(interval=20)
    runner.distributed = True
    # a meta tensor, which cannot be read back, stands for a loss still computed on a GPU
    hook.before_train(runner)
    for batch_idx in range(19):
        _step(hook, runner, torch.ones((), device='meta'), batch_idx)
    assert reductions == []

    runner, hook = _Runner(str(tmp_path)), NonFiniteLossHook(interval=20)
    runner.distributed, runner.train_dataloader = True, list(range(45))
    hook.before_train(runner)
    for batch_idx in range(45):
        _step(hook, runner, 1.0, batch_idx)
    assert reductions == [(20, ), (20, ), (5, )]  # after batches 20, 40 and 45 (the last)


def test_no_checkpoint_is_written_before_the_pending_losses_are_checked(tmp_path):
    from mmaction.engine.hooks import CheckpointHook
    runner, hook = _Runner(str(tmp_path)), NonFiniteLossHook(interval=20)
    runner.hooks = [hook]
    hook.before_train(runner)
    _step(hook, runner, float('inf'), batch_idx=0)
    _step(hook, runner, 1.0, batch_idx=1)  # not checked yet (every 20)
    with pytest.raises(NonFiniteLossError, match='iteration 1/40'):
        CheckpointHook(iter_interval=2)._save_mid_epoch(runner)  # iter_2.pth would be next


def test_fp16_overflow_steps_are_skipped_not_errors(tmp_path, mmlog):
    scaler = _Scaler()
    runner, hook = _Runner(str(tmp_path), scaler), NonFiniteLossHook(fp16_patience=3,
                                                                     interval=1)
    hook.before_train(runner)
    scaler.scale = 32768.0  # the scaler found inf gradients, skipped the update
    _step(hook, runner, 2.0, 0)
    assert 'skipped this update and lowered the scale from 65536 to 32768' in mmlog.text
    _step(hook, runner, float('inf'), 1)
    _step(hook, runner, float('inf'), 2)  # two in a row: still tolerated
    _step(hook, runner, 1.0, 3)  # recovers, counter resets
    _step(hook, runner, float('inf'), 4)
    _step(hook, runner, float('inf'), 5)
    with pytest.raises(NonFiniteLossError, match='3 iterations in a row under fp16'):
        _step(hook, runner, float('inf'), 6)


def test_fp16_patience_counts_across_checks(tmp_path):
    runner, hook = _Runner(str(tmp_path), _Scaler()), NonFiniteLossHook(fp16_patience=3,
                                                                        interval=2)
    hook.before_train(runner)
    _step(hook, runner, 1.0, 0)
    _step(hook, runner, float('inf'), 1)  # checked here: one in a row
    _step(hook, runner, float('inf'), 2)
    with pytest.raises(NonFiniteLossError, match='epoch 3, iteration 4/40 .*3 iterations'):
        _step(hook, runner, float('inf'), 3)


def test_epoch_seed_depends_on_seed_and_epoch_only(tmp_path):
    runner, hook = _Runner(str(tmp_path)), EpochSeedHook()

    def draws(epoch):
        runner.epoch = epoch
        torch.rand(5), np.random.rand(3)  # whatever ran before does not matter
        hook.before_train_epoch(runner)
        return torch.rand(3).tolist() + np.random.rand(2).tolist()

    seed5_epoch4 = draws(4)
    assert draws(4) == seed5_epoch4
    assert draws(5) != seed5_epoch4
    runner.seed = 6
    assert draws(4) != seed5_epoch4


class _Noise(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return float(np.random.rand())


def _epoch_values(main_seed, rank):
    os.environ['RANK'] = str(rank)
    try:
        torch.manual_seed(main_seed)  # what EpochSeedHook sets before the epoch's iterator
        loader = DataLoader(_Noise(), batch_size=1, num_workers=2, worker_init_fn=seed_worker,
                            persistent_workers=False)
        return [float(v) for v in loader]
    finally:
        os.environ.pop('RANK')


def test_worker_seeds_follow_the_epoch_and_rank():
    first = _epoch_values(1, rank=0)
    assert first == _epoch_values(1, rank=0)  # reproducible
    assert first != _epoch_values(2, rank=0)  # another epoch, other augmentations
    assert first != _epoch_values(1, rank=1)  # another rank, other augmentations
    assert len(set(first)) == 4  # workers differ from each other


def test_iter_interval_is_checked():
    from mmaction.engine.hooks import CheckpointHook
    with pytest.raises(ValueError, match='with by_epoch=False, interval already counts'):
        CheckpointHook(interval=100, by_epoch=False, iter_interval=10)
    with pytest.raises(ValueError, match='positive number of iterations or None, got 0'):
        CheckpointHook(iter_interval=0)
