"""lr_config -> LrConfigScheduler: values against the closed-form mmcv formulas, the seed
users' logged values, and the one-GPU-with-accumulation equivalence."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from mmaction.engine import translate_config
from mmaction.engine.lr_schedule import LrConfigScheduler
from mmaction.registry import PARAM_SCHEDULERS

K400 = 'configs/recognition/vit/vitclip_base_k400.py'


def _wrapper(lr=3e-4, accumulative_counts=1, groups=1):
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(groups)]
    optimizer = torch.optim.SGD([{'params': [p]} for p in params], lr=lr)
    return OptimWrapper(optimizer, accumulative_counts=accumulative_counts)


def _run(scheduler, wrapper, iterations):
    """lr in effect during each data iteration, as the runner steps the scheduler."""
    lrs = []
    for _ in range(iterations):
        lrs.append(wrapper.optimizer.param_groups[0]['lr'])
        scheduler.step()
    return lrs


def aim_cosine(i, base, epoch_length, max_epochs, warmup_epochs, ratio=0.1, min_lr=0.0):
    """mmcv 1.x CosineAnnealing (by epoch) with linear warm-up by epoch, written out."""
    epoch = i // epoch_length
    regular = min_lr + (base - min_lr) * (1 + math.cos(math.pi * epoch / max_epochs)) / 2
    warmup_iters = warmup_epochs * epoch_length
    if i >= warmup_iters:
        return regular
    return regular * (1 - (1 - i / warmup_iters) * (1 - ratio))


def test_cosine_with_fractional_warmup_matches_formula():
    wrapper = _wrapper()
    scheduler = LrConfigScheduler(wrapper, policy='CosineAnnealing', min_lr=0, warmup='linear',
                                  warmup_by_epoch=True, warmup_iters=2.5, max_epochs=6,
                                  epoch_length=10)
    lrs = _run(scheduler, wrapper, 60)
    expected = [aim_cosine(i, 3e-4, 10, 6, 2.5) for i in range(60)]
    assert lrs == pytest.approx(expected, rel=1e-12, abs=0)
    # spot values by hand: first iteration 10% of base; iteration 24 is the last warm-up one
    assert lrs[0] == pytest.approx(3e-5)
    assert lrs[24] == pytest.approx(3e-4 * 0.75 * (1 - (1 - 24 / 25) * 0.9))
    assert lrs[25] == pytest.approx(3e-4 * 0.75)  # epoch 2: (1 + cos(pi/3)) / 2


@pytest.mark.parametrize('epoch_length, iteration, logged', [
    (15027, 4179, '6.003e-05'),  # seed notes: ViT Diving-48, "Epoch [1][4180/15027] lr: 6.003e-05"
    (84457, 28159, '6.601e-05'),  # seed notes: SSv2, "Epoch [1][28160/84457] lr: 6.601e-05"
])
def test_reproduces_lrs_logged_by_aim(epoch_length, iteration, logged):
    wrapper = _wrapper(lr=3e-4)
    scheduler = LrConfigScheduler(wrapper, policy='CosineAnnealing', min_lr=0, warmup='linear',
                                  warmup_by_epoch=True, warmup_iters=2.5, max_epochs=50,
                                  epoch_length=epoch_length)
    assert f'{scheduler.lr_at(3e-4, iteration):.3e}' == logged


def test_translated_config_builds_the_schedule_the_runner_way():
    cfg = translate_config(Config.fromfile(K400))
    (sched_cfg, ) = cfg.param_scheduler
    wrapper = _wrapper(lr=cfg.optim_wrapper.optimizer.lr)
    scheduler = PARAM_SCHEDULERS.build(sched_cfg, default_args=dict(optimizer=wrapper,
                                                                    epoch_length=7))
    lrs = _run(scheduler, wrapper, 7 * 30)
    assert lrs == pytest.approx([aim_cosine(i, 3e-4, 7, 30, 2.5) for i in range(7 * 30)])


def test_one_gpu_with_accumulation_follows_the_eight_gpu_schedule_update_by_update():
    """AIM's recipe: 8 GPUs x 8 videos, E iterations per epoch. One GPU x 8 videos with
    update_interval=8 has 8E iterations per epoch and one update every 8: the lr at each
    update must equal the 8-GPU lr at the same update."""
    updates_per_epoch, epochs = 6, 4
    eight = _wrapper()
    sched8 = LrConfigScheduler(eight, policy='CosineAnnealing', min_lr=0, warmup='linear',
                               warmup_by_epoch=True, warmup_iters=2.5, max_epochs=epochs,
                               epoch_length=updates_per_epoch)
    one = _wrapper(accumulative_counts=8)
    sched1 = LrConfigScheduler(one, policy='CosineAnnealing', min_lr=0, warmup='linear',
                               warmup_by_epoch=True, warmup_iters=2.5, max_epochs=epochs,
                               epoch_length=8 * updates_per_epoch)
    lr8 = _run(sched8, eight, updates_per_epoch * epochs)
    lr1 = _run(sched1, one, 8 * updates_per_epoch * epochs)
    at_updates = lr1[7::8]  # the optimizer steps on the last iteration of each window
    assert at_updates == lr8
    # the whole window shares one value
    assert all(len(set(lr1[k:k + 8])) == 1 for k in range(0, len(lr1), 8))


def test_step_poly_fixed_and_warmup_kinds():
    wrapper = _wrapper(lr=1.0)
    step = LrConfigScheduler(wrapper, policy='step', step=[2, 4], gamma=0.1, max_epochs=6,
                             epoch_length=3, warmup='constant', warmup_iters=2,
                             warmup_ratio=0.5)
    assert [step.lr_at(1.0, i) for i in (0, 1, 2, 5, 6, 12, 17)] == pytest.approx(
        [0.5, 0.5, 1.0, 1.0, 0.1, 0.01, 0.01])
    poly = LrConfigScheduler(wrapper, policy='Poly', power=2.0, min_lr=0.1, max_epochs=4,
                             epoch_length=5, policy_by_epoch=False, warmup='exp',
                             warmup_iters=4, warmup_ratio=0.01)
    regular = (1.0 - 0.1) * (1 - 3 / 20)**2 + 0.1
    assert poly.lr_at(1.0, 3) == pytest.approx(regular * 0.01**(1 - 3 / 4))
    fixed = LrConfigScheduler(wrapper, policy='Fixed', max_epochs=2, epoch_length=2)
    assert fixed.lr_at(1.0, 3) == 1.0


def test_scheduler_state_resumes_exactly():
    kwargs = dict(policy='CosineAnnealing', min_lr=0, warmup='linear', warmup_by_epoch=True,
                  warmup_iters=1.5, max_epochs=3, epoch_length=4)
    wrapper = _wrapper()
    first = LrConfigScheduler(wrapper, **kwargs)
    _run(first, wrapper, 5)
    states = first.state_dict(), wrapper.optimizer.state_dict()  # what a checkpoint holds
    rest = _run(first, wrapper, 7)
    wrapper2 = _wrapper()
    second = LrConfigScheduler(wrapper2, **kwargs)
    second.load_state_dict(states[0])
    wrapper2.optimizer.load_state_dict(states[1])
    assert _run(second, wrapper2, 7) == rest


@pytest.mark.parametrize('bad, message', [
    (dict(policy='OneCycle'), 'not supported'),
    (dict(policy='CosineAnnealing'), 'exactly one of min_lr and min_lr_ratio'),
    (dict(policy='Step'), 'needs step='),
    (dict(policy='Fixed', warmup='cosine'), 'lr_config.warmup'),
])
def test_bad_lr_config_is_explained(bad, message):
    with pytest.raises(ValueError, match=message):
        LrConfigScheduler(_wrapper(), max_epochs=2, epoch_length=2, **bad)
