"""Randomness that depends only on (seed, epoch, rank, position), so that a resumed run repeats
the uninterrupted one bit for bit.

* :class:`~mmaction.engine.hooks.EpochSeedHook` reseeds ``random``, ``numpy`` and ``torch``
  in every training process at the start of each epoch from ``(seed, epoch)``. Everything
  random in the main process (dropout, drop-path, mixup/cutmix, the data loader's base seed)
  then depends on the epoch, not on what ran before it (validation, a restart).
* :class:`~mmaction.datasets.SeededSampler` gives every training sample a seed from
  ``(seed, epoch, position in the epoch)``, with which the dataset reseeds before the
  sample's pipeline: its augmentations do not depend on the worker that loads it.
* :func:`seed_worker` is the data loader's ``worker_init_fn``, for whatever else draws
  random numbers in a worker (and samplers that give no seed). PyTorch seeds each worker from
  a base seed drawn from the main process's generator when an epoch's iterator is created
  (``base_seed + worker_id``); this function adds the process rank, so the workers' streams
  differ across workers, ranks and epochs and are reproducible. (mmengine's default
  ``worker_init_fn`` seeds ``seed + worker_id + rank * num_workers``: the same streams in
  every epoch.)
* :func:`rng_state` / :func:`set_rng_state` carry the main process's random state through a
  checkpoint written part-way into an epoch.
"""
import os
import random
from typing import Optional

import numpy as np
import torch

from mmaction.registry import FUNCTIONS


def derive_seed(*entropy: int) -> int:
    """A well-mixed 32-bit seed from integers (numpy's ``SeedSequence``)."""
    return int(np.random.SeedSequence([int(e) % 2**63 for e in entropy]).generate_state(1)[0])


def seed_everything(seed: int) -> None:
    """Seed ``random``, ``numpy`` and ``torch`` (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds all CUDA devices


def epoch_seed(seed: int, epoch: int, rank: Optional[int] = None) -> int:
    """Seed of a training epoch; ``rank`` only when ranks should differ
    (``randomness.diff_rank_seed``)."""
    return derive_seed(seed, epoch) if rank is None else derive_seed(seed, epoch, rank)


@FUNCTIONS.register_module(name='seed_worker')
def seed_worker(worker_id: int) -> None:
    """Data loader ``worker_init_fn``: seed ``random``, ``numpy`` and ``torch`` of the worker
    from PyTorch's per-epoch worker seed and the process rank."""
    rank = int(os.environ.get('RANK', 0))
    seed = derive_seed(torch.initial_seed(), rank, worker_id)
    seed_everything(seed)


def rng_state() -> dict:
    """The state of ``random``, ``numpy`` and ``torch`` (CPU and CUDA) in tensors and plain
    containers, for a checkpoint that must be loadable with ``weights_only=True``."""
    version, mt, gauss = random.getstate()
    _, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(python=[version, list(mt), gauss],
                 numpy=dict(keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos),
                            has_gauss=int(has_gauss), cached_gaussian=float(cached)),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    version, mt, gauss = state['python']
    random.setstate((version, tuple(mt), gauss))
    npy = state['numpy']
    np.random.set_state(('MT19937', npy['keys'].numpy().astype(np.uint32), npy['pos'],
                         npy['has_gauss'], npy['cached_gaussian']))
    torch.set_rng_state(state['torch'].cpu())
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])
