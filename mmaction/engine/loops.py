"""The loops: mmengine's epoch loop, able to start part-way into an epoch, and its
validation and test loops, able to run under autocast."""
from typing import Optional

import torch
from mmengine.runner import EpochBasedTrainLoop as MMEngineEpochBasedTrainLoop
from mmengine.runner import TestLoop as MMEngineTestLoop
from mmengine.runner import ValLoop as MMEngineValLoop
from mmengine.runner.loops import _update_losses

from mmaction.registry import LOOPS
from mmaction.utils.randomness import set_rng_state
from .resume import ResumeState

AUTOCAST_DTYPES = ('float16', 'bfloat16')


@LOOPS.register_module(name='EpochBasedTrainLoop', force=True)
class EpochBasedTrainLoop(MMEngineEpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` (same arguments) that can resume mid-epoch.

    :meth:`~mmaction.engine.ActionRunner.resume` hands it a
    :class:`~mmaction.engine.resume.ResumeState` (:meth:`resume_from`) built from the
    checkpoint. When that was written part-way into an epoch (``CheckpointHook(
    iter_interval=N)``), the epoch begins as every epoch does (``before_train_epoch`` reseeds;
    the data loader's iterator draws its worker seeds), its sampler skips the samples already
    trained on, and the random state is put back to where the interrupted run left it. With
    the per-sample seeds of :class:`~mmaction.datasets.SeededSampler`, the rest of the run
    repeats the uninterrupted one exactly.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._resume: Optional[ResumeState] = None

    def resume_from(self, state: ResumeState) -> None:
        """Go on where ``state`` says, from the next epoch this loop runs."""
        self._resume = state

    @property
    def resume_state(self) -> Optional[ResumeState]:
        """The resume still to be carried out: from :meth:`resume_from` until the epoch it
        lands in begins (after that epoch's ``before_train_epoch`` hooks); else ``None``."""
        return self._resume

    @property
    def resume_at(self) -> int:
        """Batches of the coming epoch that the resume skips (0 when there are none)."""
        return self._resume.batches_done if self._resume else 0

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        resume, self._resume = self._resume, None
        start = resume.batches_done if resume else 0
        if start:
            self.dataloader.sampler.skip(start * self.dataloader.batch_size)
        if getattr(self.dataloader, '_iterator', None) is not None:
            # persistent workers: a reused iterator draws nothing, a new one draws its
            # workers' base seed from torch's generator; drawing here too keeps the epoch's
            # random stream the same whether the workers started now (a resumed run) or before
            torch.empty((), dtype=torch.int64).random_()
        batches = iter(self.dataloader)
        if resume and resume.rng is not None:
            set_rng_state(resume.rng)
        for idx, data_batch in enumerate(batches, start):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


def _autocast_setting(loop: str, autocast: Optional[str], fp16: bool) -> Optional[str]:
    if autocast is not None and autocast not in AUTOCAST_DTYPES:
        raise ValueError(f'{loop}.autocast must be one of {AUTOCAST_DTYPES} or None, got '
                         f'{autocast!r}')
    if autocast is not None and fp16:
        raise ValueError(f'{loop} sets both fp16=True and autocast={autocast!r}; keep one.')
    return autocast


class _AutocastEvaluation:
    """``run_iter`` of mmengine's val/test loops with the model step under ``torch.autocast``
    of ``self.autocast`` (mmengine's own ``fp16`` flag knows float16 only, and its context
    would switch an outer one off)."""

    stage = ''  # 'val' or 'test'

    @torch.no_grad()
    def run_iter(self, idx, data_batch) -> None:
        if self.autocast is None:
            return super().run_iter(idx, data_batch)
        self.runner.call_hook(f'before_{self.stage}_iter', batch_idx=idx,
                              data_batch=data_batch)
        device = next(self.runner.model.parameters()).device.type
        with torch.autocast(device, dtype=getattr(torch, self.autocast)):
            outputs = getattr(self.runner.model, f'{self.stage}_step')(data_batch)
        losses = getattr(self, f'{self.stage}_loss')
        outputs, losses = _update_losses(outputs, losses)
        setattr(self, f'{self.stage}_loss', losses)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(f'after_{self.stage}_iter', batch_idx=idx,
                              data_batch=data_batch, outputs=outputs)


@LOOPS.register_module(name='ValLoop', force=True)
class ValLoop(_AutocastEvaluation, MMEngineValLoop):
    """mmengine's ``ValLoop`` (same arguments) plus ``autocast``: ``'float16'`` or
    ``'bfloat16'`` runs the model's forward passes under ``torch.autocast`` of that dtype.
    :func:`~mmaction.engine.config.adapt_to_device` sets it to the training's
    precision on CUDA."""

    stage = 'val'

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False,
                 autocast: Optional[str] = None) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.autocast = _autocast_setting('val_cfg', autocast, fp16)


@LOOPS.register_module(name='TestLoop', force=True)
class TestLoop(_AutocastEvaluation, MMEngineTestLoop):
    """mmengine's ``TestLoop`` (same arguments) plus ``autocast``, as :class:`ValLoop`."""

    stage = 'test'

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False,
                 autocast: Optional[str] = None) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.autocast = _autocast_setting('test_cfg', autocast, fp16)
