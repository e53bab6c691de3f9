"""docs/single_gpu.md: one GPU with videos_per_gpu=8 and update_interval=8 follows AIM's
8-GPU recipe (8 x 8 videos per update) update by update."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmaction.engine import apply_cfg_options, resolve_precision, translate_config
from mmaction.engine.hooks import EpochAccumulationHook
from mmaction.registry import PARAM_SCHEDULERS

K400 = 'configs/recognition/vit/vitclip_base_k400.py'
VIDEOS = 64 * 3  # a training set of 3 updates of 64 videos per epoch


class _Runner:
    def __init__(self, model, wrapper, epoch_length):
        self.model, self.optim_wrapper = model, wrapper
        self.train_dataloader = range(epoch_length)


def _lrs_at_updates(cfg, gpus):
    """Simulate one process of the run: data iterations, accumulation, scheduler steps as
    the runner performs them; return the lr of every optimizer update."""
    batch = cfg.train_dataloader.batch_size
    epoch_length = VIDEOS // (batch * gpus)
    model = torch.nn.Linear(1, 1)
    wrapper = build_optim_wrapper(model, resolve_precision(dict(cfg.optim_wrapper), cuda=False))
    (sched_cfg, ) = cfg.param_scheduler
    scheduler = PARAM_SCHEDULERS.build(
        sched_cfg, default_args=dict(optimizer=wrapper, epoch_length=epoch_length))
    applied = []
    wrapper.optimizer.step = lambda: applied.append(wrapper.optimizer.param_groups[0]['lr'])
    hook = EpochAccumulationHook()
    for _ in range(cfg.train_cfg.max_epochs):
        hook.before_train_epoch(_Runner(model, wrapper, epoch_length))
        for _ in range(epoch_length):
            wrapper.update_params(model(torch.ones(1, 1)).sum())
            scheduler.step()
    return applied


def test_one_gpu_with_update_interval_8_equals_eight_gpus():
    eight = translate_config(Config.fromfile(K400))
    one = Config.fromfile(K400)
    apply_cfg_options(one, {'data.videos_per_gpu': 8, 'optimizer_config.update_interval': 8})
    one = translate_config(one)

    def effective_batch(cfg, gpus):
        return cfg.train_dataloader.batch_size * gpus * cfg.optim_wrapper.accumulative_counts

    assert effective_batch(eight, 8) == effective_batch(one, 1) == 64
    lr8, lr1 = _lrs_at_updates(eight, gpus=8), _lrs_at_updates(one, gpus=1)
    assert len(lr8) == len(lr1) == 3 * eight.train_cfg.max_epochs
    assert lr1 == pytest.approx(lr8, rel=1e-12)
    assert lr8[0] == pytest.approx(3e-5) and max(lr8) <= 3e-4  # warm-up from 10 %
