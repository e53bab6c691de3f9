"""Stop at the first non-finite loss, saying where and from which checkpoint to restart."""
import math
import os.path as osp
from typing import List, NamedTuple, Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from mmaction.checkpoint import find_latest_checkpoint
from mmaction.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""


class _Step(NamedTuple):
    epoch: int
    batch_idx: int
    iteration: int  # global, 0-based
    lr: float
    loss: torch.Tensor  # 0-d, on the model's device
    scale: object  # loss scale after the step: a 0-d device tensor, a float, or None


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` when the loss is NaN or infinite.

    The losses stay on the device and are checked together every ``interval`` iterations,
    at the end of every epoch and before any checkpoint is written (the checkpoint hook calls
    :meth:`check`): one host sync (and, under DDP, one all-reduce) per check instead of per
    iteration. A non-finite loss is therefore noticed up to ``interval - 1`` iterations late,
    but never after a checkpoint that holds its consequences. The message names the epoch and
    iteration of the first non-finite loss, the learning rate there and the last checkpoint
    written before it. All ranks stop together (the check is reduced across processes).

    With fp16 loss scaling (``AmpOptimWrapper``) the scaler already skips updates whose
    gradients overflow and lowers the scale; those steps are logged, not errors. A non-finite
    *loss* there also only skips a step, so it stops the run only after ``fp16_patience``
    consecutive iterations.

    Args:
        fp16_patience: consecutive non-finite losses tolerated under fp16 loss scaling.
        interval: iterations between checks (``1``: check every iteration).
    """

    priority = 'ABOVE_NORMAL'
    always_on = True  # every run has it, unless custom_hooks lists it with its own settings

    def __init__(self, fp16_patience: int = 10, interval: int = 20):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'NonFiniteLossHook interval must be a positive int, got '
                             f'{interval!r}')
        self.fp16_patience = fp16_patience
        self.interval = interval
        self._bad_in_a_row = 0
        self._pending: List[_Step] = []
        self._scale_seen: Optional[float] = None  # the scale before the pending steps

    @staticmethod
    def _scaler(runner):
        return getattr(runner.optim_wrapper, 'loss_scaler', None)

    @staticmethod
    def _scale_now(scaler):
        """The scaler's current scale without a host sync where possible."""
        scale = getattr(scaler, '_scale', None)  # torch's GradScaler keeps it on the device
        if isinstance(scale, torch.Tensor):
            return scale.detach().clone()
        return scaler.get_scale()

    def before_train(self, runner) -> None:
        scaler = self._scaler(runner)
        self._scale_seen = scaler.get_scale() if scaler is not None else None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        loss = (outputs or {}).get('loss')
        if loss is None:
            return
        loss = loss.detach() if isinstance(loss, torch.Tensor) else torch.tensor(float(loss))
        scaler = self._scaler(runner)
        lr = runner.optim_wrapper.get_lr()
        lr = next(iter(lr.values()))[0] if isinstance(lr, dict) else lr
        self._pending.append(_Step(runner.epoch, batch_idx, runner.iter, lr, loss.reshape(()),
                                   self._scale_now(scaler) if scaler is not None else None))
        if (batch_idx + 1) % self.interval == 0 or \
                batch_idx + 1 >= len(runner.train_dataloader):
            self.check(runner)

    def check(self, runner) -> None:
        """Check the losses since the last check: one host sync, and one all-reduce under DDP.
        Every rank must call it at the same iterations."""
        steps, self._pending = self._pending, []
        if not steps:
            return
        bad = (~torch.isfinite(torch.stack([s.loss.float() for s in steps]))).float()
        if runner.distributed:
            all_reduce(bad, op='sum')
        bad = bad.cpu().tolist()
        scales = self._host_scales(steps)
        for step, is_bad, scale in zip(steps, bad, scales):
            self._report_overflow(runner, step, scale)
            if not is_bad:
                self._bad_in_a_row = 0
                continue
            self._bad_in_a_row += 1
            if scale is not None and self._bad_in_a_row < self.fp16_patience:
                continue
            raise NonFiniteLossError(self._message(runner, step, scale is not None))

    @staticmethod
    def _host_scales(steps: List[_Step]) -> list:
        scales = [s.scale for s in steps]
        on_device = [i for i, s in enumerate(scales) if isinstance(s, torch.Tensor)]
        if on_device:
            values = torch.stack([scales[i].float() for i in on_device]).cpu().tolist()
            for i, value in zip(on_device, values):
                scales[i] = value
        return scales

    def _report_overflow(self, runner, step: _Step, scale: Optional[float]) -> None:
        if scale is None:
            return
        if self._scale_seen is not None and scale < self._scale_seen:
            runner.logger.info(
                f'fp16 overflow at iteration {step.iteration + 1}: the loss scaler skipped '
                f'this update and lowered the scale from {self._scale_seen:g} to {scale:g}.')
        self._scale_seen = scale

    def _message(self, runner, step: _Step, scaled: bool) -> str:
        value = float(step.loss.float().cpu())
        last = runner.message_hub.get_info('last_ckpt')
        if not last or not osp.isfile(last):
            last = find_latest_checkpoint(runner.work_dir)
        where = (f'Last checkpoint written before it: {last} (continue with --resume-from '
                 f'{last}, or --resume)' if last else 'No checkpoint was written before it')
        value = value if not math.isfinite(value) else f'{value} here, non-finite on another rank'
        return (f'Non-finite loss ({value}) at epoch {step.epoch + 1}, iteration '
                f'{step.batch_idx + 1}/{len(runner.train_dataloader)} (global iteration '
                f'{step.iteration + 1}), lr {step.lr:.4g}'
                + (f', {self._bad_in_a_row} iterations in a row under fp16 loss scaling'
                   if scaled else '')
                + f'. Training stopped before a checkpoint could hold its effect. {where}. Usual '
                  'remedies: a lower optimizer.lr, optimizer_config.grad_clip=dict(max_norm=...), '
                  'or checking the data of this iteration.')
