"""Randomness that depends only on (seed, epoch, rank, position), so that a resumed run repeats
the uninterrupted one bit for bit.

They live in ``utils`` because the datasets (:class:`~mmaction.datasets.SeededSampler`) need
them as much as the engine does.

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
* :func:`gather_rng_states` / :func:`rank_rng_state` / :func:`set_rng_state` carry the random
  state of every process (``random``, ``numpy``, ``torch`` and its own CUDA device) through a
  checkpoint written part-way into an epoch, so that each rank resumes its own streams.
"""
import os
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object

from mmaction.registry import FUNCTIONS

#: ``CUBLAS_WORKSPACE_CONFIG`` values with which cuBLAS is reproducible (torch's
#: deterministic mode refuses cuBLAS calls without one). ':4096:8': 8 buffers of 4 MiB per
#: stream, the larger and faster of the two.
CUBLAS_DETERMINISTIC = (':4096:8', ':16:8')


def use_deterministic_cublas() -> bool:
    """Export ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` unless a reproducible value is set already.

    cuBLAS reads the variable when it creates its handle (the first matmul on a device), so
    this must run before any CUDA matmul of the process. Returns whether it was set here.
    A value that is not reproducible is refused: torch would stop at the first matmul.
    """
    value = os.environ.get('CUBLAS_WORKSPACE_CONFIG')
    if value in CUBLAS_DETERMINISTIC:
        return False
    if value:
        raise ValueError(
            f'deterministic training needs CUBLAS_WORKSPACE_CONFIG to be one of '
            f'{CUBLAS_DETERMINISTIC} (reproducible cuBLAS), but the environment sets it to '
            f'{value!r}. Unset it (it is then set to :4096:8) or export one of those values.')
    os.environ['CUBLAS_WORKSPACE_CONFIG'] = CUBLAS_DETERMINISTIC[0]
    return True


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
    """The state of ``random``, ``numpy`` and ``torch`` (CPU, and the current CUDA device of
    this process) in tensors and plain containers, for a checkpoint that must be loadable
    with ``weights_only=True``."""
    version, mt, gauss = random.getstate()
    _, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(python=[version, list(mt), gauss],
                 numpy=dict(keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos),
                            has_gauss=int(has_gauss), cached_gaussian=float(cached)),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda_device'] = torch.cuda.get_rng_state()  # this rank's own device
    return state


def gather_rng_states() -> dict:
    """``{'ranks': [state of rank 0, state of rank 1, ...]}``: :func:`rng_state` of every
    process, gathered on all of them (a collective call: every rank must make it)."""
    return dict(ranks=all_gather_object(rng_state()))


def rank_rng_state(saved: dict, rank: int, world_size: int, source: str = 'the checkpoint'
                   ) -> dict:
    """This rank's state from what :func:`gather_rng_states` saved. A checkpoint written by
    another number of processes is refused: the other ranks' streams cannot be recreated."""
    if 'ranks' not in saved:  # written by one process before states were kept per rank
        states = [saved]
    else:
        states = saved['ranks']
    if len(states) != world_size:
        raise ValueError(
            f'{source} holds the random state of {len(states)} process(es) but this run has '
            f'{world_size}; a resume part-way into an epoch needs the same number of '
            'processes (GPUs) as the run that wrote it. Resume from an epoch_N.pth instead.')
    return states[rank]


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned (in this process; tensors may be on any
    device)."""
    version, mt, gauss = state['python']
    random.setstate((version, tuple(mt), gauss))
    npy = state['numpy']
    np.random.set_state(('MT19937', npy['keys'].cpu().numpy().astype(np.uint32), npy['pos'],
                         npy['has_gauss'], npy['cached_gaussian']))
    torch.set_rng_state(state['torch'].cpu())
    if not torch.cuda.is_available():
        return
    if 'cuda_device' in state:
        torch.cuda.set_rng_state(state['cuda_device'].cpu())
    elif 'cuda' in state:  # older files: every device's state, from one process
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])
