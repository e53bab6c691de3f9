"""mmengine's ``CheckpointHook`` with AIM's ``save_tunable_only`` option, and the hook that
keeps every checkpoint loadable with ``torch.load(weights_only=True)``."""
import os.path as osp
import re
from typing import Optional

import mmengine.hooks.checkpoint_hook as mmengine_checkpoint_hook
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.checkpoint import TUNABLE_ONLY_KEY, to_plain, tunable_state_dict
from mmaction.registry import HOOKS
from mmaction.utils import write_text_atomic
from ..file_client import without_file_client
from ..resume import mid_epoch_meta
from .non_finite_loss_hook import NonFiniteLossHook


@HOOKS.register_module(name='CheckpointHook', force=True)
class CheckpointHook(MMEngineCheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments: ``interval``, ``by_epoch``,
    ``max_keep_ckpts``, ``save_best``, ``rule`` ...) plus:

    Args:
        save_tunable_only: write only the parameters with ``requires_grad=True`` (and the
            buffers): about 11M values instead of 97M for ViT-B/16 with AIM's recipe. The
            checkpoint's ``meta['save_tunable_only']`` records what was left out; loading it
            (``load_from``, ``--resume``, ``tools/test.py``) first loads the pretrained
            backbone, then these weights on top.
        iter_interval: with epoch checkpoints (``by_epoch=True``), also write ``iter_N.pth``
            every ``iter_interval`` iterations of an epoch, with the random state, so that
            ``--resume`` continues part-way into the epoch exactly as the run would have gone
            on. Only the newest is kept, and the epoch's checkpoint replaces it. Under
            gradient accumulation it is written at the next update. ``None``: epochs only.
    """

    def __init__(self, *args, save_tunable_only: bool = False,
                 iter_interval: Optional[int] = None, **kwargs):
        super().__init__(*args, **kwargs)
        if iter_interval is not None and (not isinstance(iter_interval, int) or
                                          iter_interval < 1):
            raise ValueError('checkpoint_config.iter_interval must be a positive number of '
                             f'iterations or None, got {iter_interval!r}')
        if iter_interval is not None and not self.by_epoch:
            raise ValueError('checkpoint_config.iter_interval adds iteration checkpoints to '
                             'epoch ones; with by_epoch=False, interval already counts '
                             'iterations (drop iter_interval)')
        self.save_tunable_only = save_tunable_only
        self.iter_interval = iter_interval
        self._iter_due = False
        self._iter_ckpt: Optional[str] = None  # the iter_N.pth to replace next

    def before_train(self, runner) -> None:
        with without_file_client(mmengine_checkpoint_hook, self.file_client_args):
            super().before_train(runner)
        resume = getattr(runner.train_loop, 'resume_state', None)
        resumed = resume.checkpoint if resume and resume.batches_done else None
        if self.iter_interval and resumed and \
                osp.abspath(osp.dirname(resumed)) == osp.abspath(self.out_dir) and \
                re.fullmatch(r'iter_\d+\.pth', osp.basename(resumed)):
            self._iter_ckpt = resumed  # ours: the epoch's checkpoint replaces it as usual

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        if not self.iter_interval:
            return
        done = batch_idx + 1  # batches of this epoch trained
        if done >= len(runner.train_dataloader):
            return  # the epoch's own checkpoint follows
        self._iter_due |= done % self.iter_interval == 0
        window = getattr(runner.optim_wrapper, '_accumulative_counts', 1)
        if self._iter_due and done % window == 0:  # no half-accumulated gradient is lost
            self._iter_due = False
            self._save_mid_epoch(runner)

    @staticmethod
    def _check_losses(runner) -> None:
        # a checkpoint must not hold weights updated from a non-finite loss: the losses that
        # NonFiniteLossHook has not checked yet are checked now (on every rank, as all ranks
        # come here at the same iterations)
        for hook in runner.hooks:
            if isinstance(hook, NonFiniteLossHook):
                hook.check(runner)

    def _save_checkpoint(self, runner) -> None:
        self._check_losses(runner)
        super()._save_checkpoint(runner)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        self._check_losses(runner)
        super()._save_best_checkpoint(runner, metrics)

    def _save_mid_epoch(self, runner) -> None:
        self._check_losses(runner)
        previous, filename = self._iter_ckpt, f'iter_{runner.iter + 1}.pth'
        runner.logger.info(f'Saving checkpoint at {runner.iter + 1} iterations '
                           f'(epoch {runner.epoch + 1}, part-way)')
        # by_epoch=False: meta records the epochs completed and the iterations done
        runner.save_checkpoint(self.out_dir, filename, save_optimizer=self.save_optimizer,
                               save_param_scheduler=self.save_param_scheduler,
                               meta=mid_epoch_meta(runner),
                               by_epoch=False,
                               backend_args=self.backend_args)
        self._iter_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self._iter_ckpt)
        if is_main_process():
            write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'), self._iter_ckpt)
            self._remove(previous)

    def after_train_epoch(self, runner) -> None:
        super().after_train_epoch(runner)
        self._iter_due = False
        saved = self.every_n_epochs(runner, self.interval, self.save_begin) or (
            self.save_last and self.is_last_train_epoch(runner))
        if self._iter_ckpt and is_main_process() and saved:
            self._remove(self._iter_ckpt)  # superseded by the epoch's checkpoint
            self._iter_ckpt = None

    def _remove(self, path: Optional[str]) -> None:
        if path and self.file_backend.isfile(path):
            self.file_backend.remove(path)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.save_tunable_only:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        full = checkpoint['state_dict']
        kept = tunable_state_dict(model, full)
        backbone = getattr(model, 'backbone', None)
        checkpoint['state_dict'] = type(full)(kept)
        if hasattr(full, '_metadata'):
            checkpoint['state_dict']._metadata = full._metadata
        checkpoint['meta'][TUNABLE_ONLY_KEY] = dict(
            kept=len(kept), omitted=len(full) - len(kept),
            pretrained=getattr(backbone, 'pretrained', None))


@HOOKS.register_module()
class PlainCheckpointHook(Hook):
    """Converts what mmengine puts into a checkpoint besides tensors (numpy arrays and
    scalars, ``HistoryBuffer`` objects of the message hub) into tensors and plain containers,
    so our checkpoints load with ``weights_only=True`` without allow-listing any class (see
    :mod:`mmaction.checkpoint.io`). Registered by :class:`~mmaction.engine.ActionRunner`
    with the lowest priority, after every hook that edits the checkpoint."""

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in list(checkpoint):
            if key != 'state_dict':
                checkpoint[key] = to_plain(checkpoint[key])
