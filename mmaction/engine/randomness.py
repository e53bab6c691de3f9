"""Randomness that depends only on (seed, epoch, rank), so that a resumed run repeats the
uninterrupted one bit for bit.

* :class:`~mmaction.engine.hooks.EpochSeedHook` reseeds ``random``, ``numpy`` and ``torch``
  in every training process at the start of each epoch from ``(seed, epoch)``. Everything
  random in the main process (dropout, drop-path, mixup/cutmix, the data loader's base seed)
  then depends on the epoch, not on what ran before it (validation, a restart).
* :func:`seed_worker` is the data loader's ``worker_init_fn``. PyTorch seeds each worker from
  a base seed drawn from the main process's generator when an epoch's iterator is created
  (``base_seed + worker_id``); this function adds the process rank, so the augmentations
  differ across workers, ranks and epochs and are reproducible. (mmengine's default
  ``worker_init_fn`` seeds ``seed + worker_id + rank * num_workers``: the same augmentations
  in every epoch.)
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
