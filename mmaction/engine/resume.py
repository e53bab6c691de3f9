"""Resuming a run, possibly part-way into an epoch: the one object that says where it goes on.

``CheckpointHook(iter_interval=N)`` writes ``iter_N.pth`` part-way into an epoch, with
:func:`mid_epoch_meta` in its ``meta``. On ``--resume``, :meth:`ActionRunner.resume
<mmaction.engine.ActionRunner.resume>` lets mmengine restore the weights, optimizer, scheduler
and counters, then builds a :class:`ResumeState` from the checkpoint
(:meth:`ResumeState.from_checkpoint`, which refuses a checkpoint this run cannot continue) and
hands it to :class:`~mmaction.engine.loops.EpochBasedTrainLoop`, which owns it: its next epoch
skips the batches already trained (``SeededSampler.skip``) and puts each rank's random state
back. Hooks read it from the loop (``resume_state``, ``resume_at``; :func:`resumed_batches`).
"""
from dataclasses import dataclass
from typing import Optional

from mmengine.dist import get_rank, get_world_size

from mmaction.checkpoint import CheckpointError
from mmaction.checkpoint.ours import EPOCH_LENGTH_META, RNG_META
from mmaction.datasets import SeededSampler
from mmaction.utils.randomness import gather_rng_states, rank_rng_state


def mid_epoch_meta(runner) -> dict:
    """The ``meta`` entries of a checkpoint written part-way into an epoch: every rank's random
    state and the run's iterations per epoch. A collective call: every rank makes it."""
    return {RNG_META: gather_rng_states(), EPOCH_LENGTH_META: len(runner.train_dataloader)}


@dataclass(frozen=True)
class ResumeState:
    """Where a resumed run goes on.

    Attributes:
        checkpoint: the file it resumed from.
        batches_done: batches of the epoch it resumes in that are trained already; 0 when it
            resumes at the start of an epoch.
        rng: this rank's random state after those batches (``None`` with 0 batches).
    """

    checkpoint: str
    batches_done: int = 0
    rng: Optional[dict] = None

    @classmethod
    def from_checkpoint(cls, path: str, meta: dict, loop) -> 'ResumeState':
        """The state of a resume from ``path`` (its ``meta``) into ``loop``, an epoch-based
        training loop whose epoch and iteration mmengine has set from the checkpoint.

        Raises :class:`CheckpointError` when the checkpoint ends no epoch of this run's
        length and was not written part-way into one of them with what continuing needs
        (the random state, a loop and sampler that can skip part of an epoch), and
        ``ValueError`` when it holds the random state of another number of processes.
        """
        epoch_length = len(loop.dataloader)
        done = loop.iter - loop.epoch * epoch_length  # batches into the next epoch
        if done == 0:
            return cls(path)
        if 0 < done < epoch_length and meta.get(EPOCH_LENGTH_META, epoch_length) == epoch_length:
            rng = meta.get(RNG_META)
            if rng is None or not hasattr(loop, 'resume_from') or \
                    not isinstance(loop.dataloader.sampler, SeededSampler):
                why = ('it holds no random state (written by a hook other than '
                       'CheckpointHook(iter_interval=...))' if rng is None else
                       'the training sampler is not SeededSampler, which can skip part of an '
                       'epoch')
                raise CheckpointError(
                    f'{path} was written part-way into epoch {loop.epoch + 1} (iteration '
                    f'{loop.iter}), but the run cannot continue from there: {why}. Resume '
                    'from an epoch_N.pth instead.')
            return cls(path, done, rank_rng_state(rng, get_rank(), get_world_size(), path))
        theirs = (f' of a run with {meta[EPOCH_LENGTH_META]} iterations per epoch'
                  if EPOCH_LENGTH_META in meta else '')
        raise CheckpointError(
            f'{path} was written after iteration {loop.iter} in epoch {loop.epoch}{theirs}, '
            f'but this run has {epoch_length} iterations per epoch '
            f'({loop.epoch} epochs = {loop.epoch * epoch_length} iterations): the number of '
            'processes or data.videos_per_gpu differs from the run that wrote it (use the '
            'same ones, or start a new schedule from its weights with '
            f'--cfg-options load_from={path}).')


def resumed_batches(runner) -> int:
    """Batches of the coming epoch that a resume part-way into it skips (0 otherwise, and
    with a training loop that cannot resume part-way)."""
    return getattr(getattr(runner, 'train_loop', None), 'resume_at', 0)
