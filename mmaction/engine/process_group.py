"""The process group of a distributed run, one that torchrun may restart included.

:func:`start` is the one way a process group starts: ``tools/train.py`` / ``tools/test.py``
(:func:`mmaction.engine.launch.init_distributed`) and ``ActionRunner.setup_env``, which
mmengine would have start it through ``mmengine.dist.init_dist`` (mmengine's ``dist``
helpers ask torch whether a group exists, so they see this one).
"""
import os
from datetime import timedelta

import torch
import torch.distributed as torch_dist

#: set by torchrun in every worker: how many times it has restarted the workers
RESTART_COUNT_VARIABLE = 'TORCHELASTIC_RESTART_COUNT'


def attempt_store(timeout: timedelta):
    """The key-value store this attempt's process group starts on, with its rank and world
    size: torch's own ``env://`` rendezvous (``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``,
    ``WORLD_SIZE``), in a namespace of its own per restart of torchrun's workers.

    torchrun (``--max-restarts N``) keeps one store for the whole job, and the process group
    writes each rank's address under the same keys in every attempt: a restarted worker can
    read the address a killed worker of the attempt before left there, and then gloo fails
    with "connectFullMesh failed ... Connection refused" or the group never forms (torch
    issue #135712). Under ``PrefixStore('attempt<N>', store)``, ``N`` being
    ``TORCHELASTIC_RESTART_COUNT``, each attempt reads only what its own workers wrote.
    """
    store, rank, world_size = next(torch_dist.rendezvous('env://', timeout=timeout))
    store.set_timeout(timeout)  # as init_process_group does with a store it makes itself
    attempt = os.environ.get(RESTART_COUNT_VARIABLE)
    if attempt is not None:
        store = torch_dist.PrefixStore(f'attempt{attempt}', store)
    return store, rank, world_size


def start(launcher: str, dist_cfg: dict) -> None:
    """Start the process group of a process started by ``launcher`` (``pytorch``, ``slurm``,
    ``mpi``; nothing for ``none`` or when it has started already).

    The backend is ``dist_cfg``'s (nccl by default); on
    a machine without CUDA it is gloo, started here directly because mmengine's ``init_dist``
    selects a CUDA device first. Under torchrun (and MPI) the group starts on
    :func:`attempt_store`, so that a job torchrun restarts forms its group again.
    """
    if launcher == 'none' or torch_dist.is_initialized():
        return
    dist_cfg = dict(dist_cfg)
    if launcher != 'slurm':
        dist_cfg.pop('port', None)  # only the slurm launcher takes a port from the config
    dist_cfg.setdefault('timeout', 1800)  # seconds
    # MPI: export_local_rank has put RANK, WORLD_SIZE, LOCAL_RANK and MASTER_* in the
    # environment, so the process group starts as under torchrun (mmengine's own MPI start
    # knows Open MPI only and leaves LOCAL_RANK unset for DDP)
    launcher = 'pytorch' if launcher == 'mpi' else launcher
    if launcher == 'pytorch':
        # Slurm restarts a job as a new one (a fresh store on rank 0): no namespace needed
        store, rank, world_size = attempt_store(timedelta(seconds=dist_cfg['timeout']))
        dist_cfg.update(store=store, rank=rank, world_size=world_size)
    if torch.cuda.is_available():
        from mmengine.dist import init_dist
        init_dist(launcher, **dist_cfg)  # passes store, rank, world_size to torch
        return
    if launcher != 'pytorch':
        raise RuntimeError(f'--launcher {launcher} without a GPU is not supported; use '
                           '--launcher pytorch (torchrun / tools/dist_train.sh) on CPU.')
    torch_dist.init_process_group(backend='gloo', store=store, rank=rank,
                                  world_size=world_size,
                                  timeout=timedelta(seconds=dist_cfg['timeout']))
