"""The training loop: mmengine's epoch loop, able to start part-way into an epoch."""
from typing import Optional

from mmengine.runner import EpochBasedTrainLoop as MMEngineEpochBasedTrainLoop

from mmaction.registry import LOOPS
from .randomness import set_rng_state


@LOOPS.register_module(name='EpochBasedTrainLoop', force=True)
class EpochBasedTrainLoop(MMEngineEpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` (same arguments) that can resume mid-epoch.

    :meth:`~mmaction.engine.ActionRunner.resume` sets :attr:`resume_at` (batches of the epoch
    already trained) and :attr:`resume_rng` (the random state after them) from a checkpoint
    written by ``CheckpointHook(iter_interval=N)``. The epoch then begins as every epoch does
    (``before_train_epoch`` reseeds; the data loader's iterator draws its worker seeds), its
    sampler skips the samples already trained on, and the random state is put back to where
    the interrupted run left it. With the per-sample seeds of
    :class:`~mmaction.datasets.SeededSampler`, the rest of the run repeats the uninterrupted
    one exactly.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.resume_at = 0
        self.resume_rng: Optional[dict] = None

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        start, self.resume_at = self.resume_at, 0
        if start:
            self.dataloader.sampler.skip(start * self.dataloader.batch_size)
        batches = iter(self.dataloader)
        if self.resume_rng is not None:
            set_rng_state(self.resume_rng)
            self.resume_rng = None
        for idx, data_batch in enumerate(batches, start):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


def resumed_batches(runner) -> int:
    """Batches of the coming epoch that a resume part-way into it skips (0 otherwise)."""
    return getattr(getattr(runner, 'train_loop', None), 'resume_at', 0)
