"""Stop at the first non-finite loss, saying where and from which checkpoint to restart."""
import math
import os.path as osp
from typing import Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from mmaction.registry import HOOKS
from ..checkpoint import find_latest_checkpoint


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` when the loss is NaN or infinite.

    The message names the epoch and iteration, the learning rate and the last checkpoint
    written before it. All ranks stop together (the check is reduced across processes).

    With fp16 loss scaling (``AmpOptimWrapper``) the scaler already skips updates whose
    gradients overflow and lowers the scale; those steps are logged, not errors. A non-finite
    *loss* there also only skips a step, so it stops the run only after ``fp16_patience``
    consecutive iterations.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, fp16_patience: int = 10):
        self.fp16_patience = fp16_patience
        self._bad_in_a_row = 0
        self._scale_before: Optional[float] = None

    @staticmethod
    def _scaler(runner):
        return getattr(runner.optim_wrapper, 'loss_scaler', None)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        scaler = self._scaler(runner)
        self._scale_before = scaler.get_scale() if scaler is not None else None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        loss = (outputs or {}).get('loss')
        if loss is None:
            return
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        bad = torch.tensor(0.0 if math.isfinite(value) else 1.0)
        if runner.distributed:
            bad = bad.to(loss.device) if isinstance(loss, torch.Tensor) else bad
            all_reduce(bad, op='sum')
        scaler = self._scaler(runner)
        if scaler is not None and self._scale_before is not None:
            scale = scaler.get_scale()
            if scale < self._scale_before:
                runner.logger.info(
                    f'fp16 overflow at iteration {runner.iter + 1}: the loss scaler skipped '
                    f'this update and lowered the scale from {self._scale_before:g} to '
                    f'{scale:g}.')
        if float(bad) == 0:
            self._bad_in_a_row = 0
            return
        self._bad_in_a_row += 1
        if scaler is not None and self._bad_in_a_row < self.fp16_patience:
            return
        lr = runner.optim_wrapper.get_lr()
        lr = next(iter(lr.values()))[0] if isinstance(lr, dict) else lr
        last = runner.message_hub.get_info('last_ckpt')
        if not last or not osp.isfile(last):
            last = find_latest_checkpoint(runner.work_dir)
        where = (f'Last checkpoint written before it: {last} (continue with --resume-from '
                 f'{last}, or --resume)' if last else 'No checkpoint was written before it')
        raise NonFiniteLossError(
            f'Non-finite loss ({value}) at epoch {runner.epoch + 1}, iteration '
            f'{batch_idx + 1}/{len(runner.train_dataloader)} (global iteration '
            f'{runner.iter + 1}), lr {lr:.4g}'
            + (f', {self._bad_in_a_row} iterations in a row under fp16 loss scaling'
               if scaler is not None else '')
            + f'. Training stopped before the weights fill with NaN. {where}. Usual remedies: '
              'a lower optimizer.lr, optimizer_config.grad_clip=dict(max_norm=...), or checking '
              'the data of this iteration.')
