"""How many CPU threads each process of a run gets, so that a run never oversubscribes the
cores it may use, also when other work shares them.

* The main process's intra-op threads (``torch.set_num_threads``, OpenCV's): the cores this
  process may use (its CPU affinity, capped by a cgroup CPU quota), divided among the
  processes of the node (``LOCAL_WORLD_SIZE``), less the data-loader workers, at least 1.
  The workers do the decoding while the main process computes; more threads than that only
  queue for the same cores.
* One thread per data-loader worker (:func:`worker_init`).
* OpenMP threads that sleep when idle (``OMP_WAIT_POLICY=PASSIVE``). GNU OpenMP (torch's
  ``libgomp``) otherwise spins for a while after every parallel region; on cores shared with
  other work the spinning threads take the time the others need. ``libgomp`` reads the
  variable once, when it is loaded, that is when torch is imported: ``mmaction/__init__.py``
  sets it (unless the user did) before anything imports torch. Set after that, it does nothing.
  (``KMP_BLOCKTIME`` is Intel OpenMP's equivalent; torch's pip wheels use GNU OpenMP.)

Overrides, first found wins: the config's ``env_cfg.num_threads``, the user's
``OMP_NUM_THREADS``, then the rule above. :func:`apply_thread_policy` applies the choice and
returns the one line the runner logs at start.
"""
import math
import os
import sys
from typing import Dict, NamedTuple, Optional

import mmaction
from mmaction.registry import FUNCTIONS


def cgroup_cpu_limit(proc_cgroup: str = '/proc/self/cgroup',
                     root: str = '/sys/fs/cgroup') -> Optional[float]:
    """The CPU quota of this process's cgroup in cores (``cpu.max`` of cgroup v2, or
    ``cpu.cfs_quota_us / cpu.cfs_period_us`` of v1), ``None`` when there is none."""
    try:
        with open(proc_cgroup) as f:
            lines = [line.rstrip('\n').split(':', 2) for line in f]
    except OSError:
        return None
    for _, controllers, path in (line for line in lines if len(line) == 3):
        path = path.lstrip('/')
        try:
            if controllers == '':  # v2: "max 100000" or "200000 100000"
                with open(os.path.join(root, path, 'cpu.max')) as f:
                    quota, period = f.read().split()[:2]
                if quota != 'max':
                    return int(quota) / int(period)
            elif 'cpu' in controllers.split(','):
                folder = os.path.join(root, controllers)
                if not os.path.isdir(folder):
                    folder = os.path.join(root, 'cpu')
                with open(os.path.join(folder, path, 'cpu.cfs_quota_us')) as f:
                    quota = int(f.read())
                with open(os.path.join(folder, path, 'cpu.cfs_period_us')) as f:
                    period = int(f.read())
                if quota > 0:
                    return quota / period
        except (OSError, ValueError):
            continue
    return None


def usable_cores(affinity: Optional[int] = None, quota: Optional[float] = None) -> int:
    """The cores this process may run on: its CPU affinity (``os.sched_getaffinity``),
    capped by the cgroup CPU quota (rounded up)."""
    if affinity is None:
        affinity = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') \
            else (os.cpu_count() or 1)
    cores = affinity
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


class ThreadChoice(NamedTuple):
    threads: int  # intra-op threads of the main process
    source: str   # why: 'env_cfg.num_threads', 'OMP_NUM_THREADS' or the rule's terms


def _positive_int(value, where: str) -> int:
    # OMP_NUM_THREADS may be a list for nested levels ("4,2"): the first is ours
    text = str(value).split(',')[0].strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f'{where} must be a whole number of threads >= 1, got {value!r}.')
    return int(text)


def choose_threads(cores: int, workers: int, local_processes: int = 1,
                   num_threads=None, environ: Optional[Dict[str, str]] = None) -> ThreadChoice:
    """The main process's intra-op threads (see the module's docstring for the rule)."""
    if num_threads is not None:
        return ThreadChoice(_positive_int(num_threads, 'env_cfg.num_threads'),
                            'env_cfg.num_threads')
    environ = os.environ if environ is None else environ
    if environ.get('OMP_NUM_THREADS'):
        return ThreadChoice(_positive_int(environ['OMP_NUM_THREADS'], 'OMP_NUM_THREADS'),
                            'OMP_NUM_THREADS')
    share = max(1, cores // max(1, local_processes))
    threads = max(1, share - workers)
    per = f' / {local_processes} processes' if local_processes > 1 else ''
    return ThreadChoice(threads, f'{cores} usable cores{per} - {workers} data-loader workers')


def wait_policy() -> str:
    """What the OpenMP runtime of this process does with idle threads, as it was when torch
    loaded it."""
    policy = mmaction.OMP_WAIT_POLICY_AT_START
    if policy is None:
        return 'OpenMP wait policy: libgomp default (spins ~300000 rounds; torch was ' \
               'imported before mmaction could set OMP_WAIT_POLICY=PASSIVE)'
    return f'OpenMP wait policy {policy}'


def _set_opencv_threads(threads: int) -> None:
    try:
        import cv2
    except ImportError:
        return
    cv2.setNumThreads(threads)


# OpenCV's pthreads pool does not survive a fork: in the child, ``cv2.setNumThreads`` waits
# for the parent's pool threads, which the child does not have, and never returns (each
# data-loader worker calls it in ``worker_init``). So around every fork from this process the
# pool is shrunk to the calling thread alone, which leaves no pool threads to wait for, and
# restored in the parent afterwards; a forked child starts with one OpenCV thread.
_opencv_threads_at_fork = []


def _opencv_before_fork() -> None:
    cv2 = sys.modules.get('cv2')
    threads = cv2.getNumThreads() if hasattr(cv2, 'getNumThreads') else 1
    if threads != 1:
        cv2.setNumThreads(1)
        _opencv_threads_at_fork.append(threads)


def _opencv_after_fork_in_parent() -> None:
    if _opencv_threads_at_fork:
        sys.modules['cv2'].setNumThreads(_opencv_threads_at_fork.pop())


def _opencv_after_fork_in_child() -> None:
    _opencv_threads_at_fork.clear()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(before=_opencv_before_fork, after_in_parent=_opencv_after_fork_in_parent,
                        after_in_child=_opencv_after_fork_in_child)


def apply_thread_policy(workers: int = 0, num_threads=None, environ=None) -> str:
    """Give the main process its threads (torch and OpenCV); returns the log line."""
    import torch
    environ = os.environ if environ is None else environ
    cores = usable_cores(quota=cgroup_cpu_limit())
    local = int(environ.get('LOCAL_WORLD_SIZE') or 1)
    choice = choose_threads(cores, workers, local, num_threads, environ)
    torch.set_num_threads(choice.threads)
    _set_opencv_threads(choice.threads)
    per_worker = ', 1 per data-loader worker' if workers else ''
    return (f'CPU threads: {choice.threads} in the main process ({choice.source}){per_worker}; '
            f'{wait_policy()} (override: env_cfg.num_threads or OMP_NUM_THREADS)')


def single_thread(*_) -> None:
    """One intra-op thread for torch and OpenCV in this process (a worker process)."""
    import torch
    torch.set_num_threads(1)
    _set_opencv_threads(1)


def loader_workers(loaders) -> int:
    """The most data-loader workers that any of ``loaders`` (configs as dicts, built loaders,
    or None) runs at a time: the training, validation and test loaders take turns."""
    counts = [0]
    for loader in loaders:
        if isinstance(loader, dict):
            counts.append(int(loader.get('num_workers') or 0))
        elif loader is not None:
            counts.append(int(getattr(loader, 'num_workers', 0) or 0))
    return max(counts)


@FUNCTIONS.register_module(name='worker_init')
def worker_init(worker_id: int) -> None:
    """The data loaders' ``worker_init_fn``: one thread for torch and OpenCV (a worker
    forked from the main process would keep the main process's OpenCV setting), then the
    worker's seeds (:func:`~mmaction.utils.randomness.seed_worker`)."""
    from .randomness import seed_worker
    single_thread()
    seed_worker(worker_id)
