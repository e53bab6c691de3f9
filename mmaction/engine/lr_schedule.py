"""AIM's ``lr_config`` (mmcv 1.x ``LrUpdaterHook`` semantics) as one mmengine scheduler.

An mmcv ``lr_config`` combines a *regular* schedule with a *warm-up* that multiplies it:

* regular lr (``policy``), evaluated at the current epoch (``by_epoch=True``, mmcv's default,
  so the cosine steps once per epoch) or at the current iteration (``by_epoch=False``):
  ``CosineAnnealing``: ``min + (base - min) * (1 + cos(pi * progress / max_progress)) / 2``;
  ``Step``: ``base * gamma ** (number of milestones passed)``, clipped at ``min_lr``;
  ``Poly``: ``(base - min) * (1 - progress / max_progress) ** power + min``; ``Fixed``: base.
* warm-up, per iteration, while ``iteration < warmup_iters`` (``warmup_iters`` is in epochs
  when ``warmup_by_epoch=True`` and may be fractional, e.g. AIM's 2.5):
  ``linear``: ``regular * (1 - (1 - i / warmup_iters) * (1 - warmup_ratio))``;
  ``constant``: ``regular * warmup_ratio``; ``exp``: ``regular * warmup_ratio ** (1 - i /
  warmup_iters)``.

The value is computed in closed form from the iteration counter (nothing accumulates, so a
resumed run continues exactly). One deliberate difference from mmcv: with gradient
accumulation (``update_interval = n``) the schedule counts optimizer updates, not data
iterations: every iteration of an accumulation window gets the value of the window's first
iteration (windows restart with each epoch, see
:class:`~mmaction.engine.hooks.EpochAccumulationHook`). So one GPU with ``n``-fold
accumulation follows, update by update, exactly the schedule of ``n`` times more GPUs
(``docs/single_gpu.md``). With ``n = 1`` the values equal mmcv's (mmcv additionally keeps the
last warm-up value until the next epoch starts when a fractional warm-up ends mid-epoch; that
differs from the formula above by a relative 1e-5 for AIM's configs).
"""
import math
import warnings
from typing import Optional, Sequence, Union

from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mmaction.registry import PARAM_SCHEDULERS

POLICIES = ('CosineAnnealing', 'Step', 'Poly', 'Fixed')
WARMUPS = (None, 'constant', 'linear', 'exp')


def mmcv_policy_name(policy: str) -> str:
    """mmcv's spelling rule: an all-lowercase policy name is title-cased (``'step'`` ->
    ``'Step'``); ``'cosine'``-style aliases are not accepted by mmcv either."""
    return policy.title() if policy == policy.lower() else policy


@PARAM_SCHEDULERS.register_module()
class LrConfigScheduler(_ParamScheduler):
    """Learning rate of an mmcv-style ``lr_config``, stepped every iteration.

    Built with ``convert_to_iter_based=True`` so that the runner passes ``epoch_length``
    (iterations per epoch of this process's data loader).

    Args:
        optimizer: the optim wrapper; its ``accumulative_counts`` sets the update interval.
        policy: ``'CosineAnnealing'``, ``'Step'``, ``'Poly'`` or ``'Fixed'``.
        max_epochs: length of the run (``total_epochs``).
        epoch_length: iterations per epoch (set by the runner).
        policy_by_epoch: mmcv's ``by_epoch``: the regular lr changes once per epoch (True) or
            every iteration (False).
        warmup, warmup_iters, warmup_ratio, warmup_by_epoch: mmcv's warm-up arguments.
        min_lr, min_lr_ratio: floor of CosineAnnealing (one of them) / Poly / Step.
        step, gamma: milestones (an int period or a list) and factor of ``Step``.
        power: exponent of ``Poly``.
    """

    def __init__(self,
                 optimizer,
                 policy: str,
                 max_epochs: int,
                 epoch_length: int,
                 policy_by_epoch: bool = True,
                 warmup: Optional[str] = None,
                 warmup_iters: Union[int, float] = 0,
                 warmup_ratio: float = 0.1,
                 warmup_by_epoch: bool = False,
                 min_lr: Optional[float] = None,
                 min_lr_ratio: Optional[float] = None,
                 step: Union[int, Sequence[int], None] = None,
                 gamma: float = 0.1,
                 power: float = 1.0,
                 last_step: int = -1,
                 verbose: bool = False):
        policy = mmcv_policy_name(policy)
        if policy not in POLICIES:
            raise ValueError(f"lr_config.policy={policy!r} is not supported; use one of "
                             f'{POLICIES} (or write param_scheduler in mmengine form).')
        if warmup not in WARMUPS:
            raise ValueError(f'lr_config.warmup={warmup!r}: expected one of {WARMUPS}')
        if warmup is not None and not 0 < warmup_ratio <= 1:
            raise ValueError(f'lr_config.warmup_ratio must be in (0, 1], got {warmup_ratio}')
        if policy == 'CosineAnnealing' and (min_lr is None) == (min_lr_ratio is None):
            raise ValueError('lr_config with policy CosineAnnealing needs exactly one of '
                             f'min_lr and min_lr_ratio; got min_lr={min_lr}, '
                             f'min_lr_ratio={min_lr_ratio}')
        if policy == 'Step' and step is None:
            raise ValueError('lr_config with policy Step needs step=<period or milestones>')
        if epoch_length < 1:
            raise ValueError(f'epoch_length must be >= 1, got {epoch_length}; is the training '
                             'dataset empty?')
        self.policy = policy
        self.max_epochs = int(max_epochs)
        self.epoch_length = int(epoch_length)
        self.policy_by_epoch = policy_by_epoch
        self.warmup = warmup
        # warm-up length in data iterations (may be fractional, as in mmcv)
        self.warmup_iters = (warmup_iters * self.epoch_length if warmup_by_epoch
                             else warmup_iters) if warmup else 0
        self.warmup_ratio = warmup_ratio
        self.min_lr = min_lr
        self.min_lr_ratio = min_lr_ratio
        self.step_milestones = step if isinstance(step, int) or step is None else list(step)
        self.gamma = gamma
        self.power = power
        self.accumulative_counts = int(getattr(optimizer, '_accumulative_counts', 1))
        super().__init__(optimizer, 'lr', begin=0, end=INF, last_step=last_step,
                         by_epoch=False, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, epoch_length: int, by_epoch: bool = True,
                              begin=0, end=INF, **kwargs):
        """Called by the runner's scheduler builder with the data loader's length. The
        schedule covers the whole run (``begin``/``end`` set by the runner are not used)."""
        return cls(*args, epoch_length=epoch_length, **kwargs)

    # ------------------------------------------------------------------ closed form
    def regular_lr(self, base_lr: float, iteration: float) -> float:
        """The policy's value at a data iteration, before warm-up."""
        max_iters = self.max_epochs * self.epoch_length
        if self.policy_by_epoch:
            progress, max_progress = iteration // self.epoch_length, self.max_epochs
        else:
            progress, max_progress = iteration, max_iters
        if self.policy == 'Fixed':
            return base_lr
        if self.policy == 'CosineAnnealing':
            target = base_lr * self.min_lr_ratio if self.min_lr_ratio is not None else self.min_lr
            return target + 0.5 * (base_lr - target) * (
                1 + math.cos(math.pi * progress / max_progress))
        if self.policy == 'Poly':
            floor = self.min_lr or 0.0
            return (base_lr - floor) * (1 - progress / max_progress)**self.power + floor
        # Step
        if isinstance(self.step_milestones, int):
            exponent = progress // self.step_milestones
        else:
            exponent = sum(progress >= s for s in self.step_milestones)
        lr = base_lr * self.gamma**exponent
        return max(lr, self.min_lr) if self.min_lr is not None else lr

    def lr_at(self, base_lr: float, iteration: int) -> float:
        """The learning rate used during data iteration ``iteration`` (0-based)."""
        # the first iteration of this accumulation window stands for the whole update;
        # windows restart with every epoch (EpochAccumulationHook)
        epoch_start = (iteration // self.epoch_length) * self.epoch_length
        n = self.accumulative_counts
        i = epoch_start + ((iteration - epoch_start) // n) * n
        regular = self.regular_lr(base_lr, i)
        if self.warmup is None or i >= self.warmup_iters:
            return regular
        if self.warmup == 'constant':
            return regular * self.warmup_ratio
        if self.warmup == 'linear':
            return regular * (1 - (1 - i / self.warmup_iters) * (1 - self.warmup_ratio))
        return regular * self.warmup_ratio**(1 - i / self.warmup_iters)  # exp

    def _get_value(self):
        return [self.lr_at(base, self.last_step) for base in self.base_values]

    def step(self):
        # With gradient accumulation the scheduler steps before the first optimizer update;
        # that order is intended here (values are computed in closed form), so torch's
        # "scheduler.step() before optimizer.step()" warning does not apply.
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='Detected call of `scheduler.step')
            super().step()
