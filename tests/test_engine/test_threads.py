"""CPU threads: the main process gets the usable cores less the data-loader workers, a user's
OMP_NUM_THREADS or env_cfg.num_threads wins, workers get one thread, OpenMP's idle threads
sleep (OMP_WAIT_POLICY=PASSIVE before torch loads libgomp), and the choice is logged."""
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from mmaction.registry import FUNCTIONS
from mmaction.utils import threads
from mmaction.utils.threads import (
    cgroup_cpu_limit,
    choose_threads,
    loader_workers,
    usable_cores,
    worker_init,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize('cores, workers, processes, expected', [
    (2, 2, 1, 1),    # the quickstart on 2 cores: the workers decode, one thread computes
    (2, 0, 1, 2),    # no workers: every core
    (8, 2, 1, 6),
    (16, 4, 2, 4),   # two processes per node share 16 cores: 8 each, less 4 workers
    (1, 3, 1, 1),    # never fewer than one
    (32, 0, 8, 4),
])
def test_main_process_threads_are_its_share_of_the_cores_less_the_workers(
        cores, workers, processes, expected):
    choice = choose_threads(cores, workers, processes, environ={})
    assert choice.threads == expected
    assert f'{cores} usable cores' in choice.source
    assert f'{workers} data-loader workers' in choice.source


def test_users_omp_num_threads_wins_and_the_config_key_wins_over_it():
    assert choose_threads(8, 2, environ={'OMP_NUM_THREADS': '3'}) == (3, 'OMP_NUM_THREADS')
    assert choose_threads(8, 2, environ={'OMP_NUM_THREADS': '4,2'}).threads == 4  # nested
    assert choose_threads(8, 2, num_threads=5, environ={'OMP_NUM_THREADS': '3'}) == \
        (5, 'env_cfg.num_threads')
    with pytest.raises(ValueError, match='OMP_NUM_THREADS must be a whole number.*got .0.'):
        choose_threads(8, 2, environ={'OMP_NUM_THREADS': '0'})
    with pytest.raises(ValueError, match='env_cfg.num_threads'):
        choose_threads(8, 2, num_threads='many', environ={})


def test_usable_cores_are_the_affinity_capped_by_the_cgroup_quota():
    assert usable_cores(affinity=8) == 8
    assert usable_cores(affinity=8, quota=2.5) == 3  # 2.5 cores of time: 3 threads can run
    assert usable_cores(affinity=2, quota=6.0) == 2
    assert usable_cores(affinity=4, quota=0.2) == 1


def test_cgroup_quota_is_read_from_v2_and_v1_files(tmp_path):
    v2 = tmp_path / 'v2'
    (v2 / 'job').mkdir(parents=True)
    (v2 / 'job' / 'cpu.max').write_text('150000 100000\n')
    (tmp_path / 'self2').write_text('0::/job\n')
    assert cgroup_cpu_limit(str(tmp_path / 'self2'), str(v2)) == 1.5
    (v2 / 'job' / 'cpu.max').write_text('max 100000\n')
    assert cgroup_cpu_limit(str(tmp_path / 'self2'), str(v2)) is None

    v1 = tmp_path / 'v1'
    (v1 / 'cpu,cpuacct' / 'slot').mkdir(parents=True)
    (v1 / 'cpu,cpuacct' / 'slot' / 'cpu.cfs_quota_us').write_text('300000\n')
    (v1 / 'cpu,cpuacct' / 'slot' / 'cpu.cfs_period_us').write_text('100000\n')
    (tmp_path / 'self1').write_text('5:memory:/x\n4:cpu,cpuacct:/slot\n')
    assert cgroup_cpu_limit(str(tmp_path / 'self1'), str(v1)) == 3.0
    (v1 / 'cpu,cpuacct' / 'slot' / 'cpu.cfs_quota_us').write_text('-1\n')  # no quota
    assert cgroup_cpu_limit(str(tmp_path / 'self1'), str(v1)) is None
    assert cgroup_cpu_limit(str(tmp_path / 'missing'), str(v1)) is None


def test_loader_workers_is_the_largest_loader_of_the_run():
    loader = DataLoader(list(range(4)), num_workers=2)
    assert loader_workers([dict(num_workers=1), None, loader]) == 2
    assert loader_workers([None, dict(batch_size=2)]) == 0


def test_apply_thread_policy_sets_torch_and_opencv_and_says_so(monkeypatch):
    before = torch.get_num_threads(), cv2.getNumThreads()
    monkeypatch.setattr(threads, 'usable_cores', lambda quota=None: 4)
    try:
        line = threads.apply_thread_policy(workers=1, environ={})
        assert torch.get_num_threads() == 3 and cv2.getNumThreads() == 3
        assert line.startswith('CPU threads: 3 in the main process (4 usable cores - 1 '
                               'data-loader workers), 1 per data-loader worker; OpenMP wait '
                               'policy ')
        line = threads.apply_thread_policy(workers=1, environ={'OMP_NUM_THREADS': '2'})
        assert torch.get_num_threads() == 2
        assert 'CPU threads: 2 in the main process (OMP_NUM_THREADS)' in line
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


class _Threads(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return torch.tensor([torch.get_num_threads(), cv2.getNumThreads()])


def test_data_loader_workers_get_one_thread():
    """The configs' worker_init_fn (mmaction.worker_init): a forked worker would keep the
    main process's OpenCV threads."""
    assert FUNCTIONS.get('mmaction.worker_init') is worker_init
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        loader = DataLoader(_Threads(), batch_size=1, num_workers=1, worker_init_fn=worker_init,
                            multiprocessing_context='fork')
        assert [row.tolist() for row in loader] == [[[1, 1]], [[1, 1]]]
    finally:
        cv2.setNumThreads(before)


def test_workers_forked_after_opencv_ran_its_thread_pool_do_not_hang():
    """After OpenCV has run its thread pool in the main process, cv2.setNumThreads in a forked
    child (worker_init) waited forever for the parent's pool threads: CI hung on it."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    image = np.zeros((1080, 1920, 3), np.uint8)
    try:
        for _ in range(10):
            cv2.resize(image, (960, 540))  # parallel: the pool's threads now wait for work
        loader = DataLoader(_Threads(), batch_size=1, num_workers=2, worker_init_fn=worker_init,
                            multiprocessing_context='fork', timeout=60)
        assert [row.tolist() for row in loader] == [[[1, 1]], [[1, 1]]]
        assert cv2.getNumThreads() == 2  # the main process keeps its setting
    finally:
        cv2.setNumThreads(before)


def _gomp_settings(code: str, **env) -> str:
    """What libgomp reports at start (OMP_DISPLAY_ENV) in a new interpreter running ``code``."""
    environ = {k: v for k, v in os.environ.items() if k != 'OMP_WAIT_POLICY'}
    environ.update(PYTHONPATH=ROOT, OMP_DISPLAY_ENV='VERBOSE', OMP_NUM_THREADS='2', **env)
    out = subprocess.run([sys.executable, '-c', code + '\nimport torch\n'
                          'torch.ones(256, 256) @ torch.ones(256, 256)\n'
                          'import mmaction\nprint("AT_START", mmaction.OMP_WAIT_POLICY_AT_START)'],
                         env=environ, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout + out.stderr


def test_openmp_threads_sleep_when_mmaction_comes_before_torch():
    # GNU OpenMP without a policy spins 300000 rounds (GOMP_SPINCOUNT) after each parallel
    # region; PASSIVE: 0
    out = _gomp_settings('import mmaction')
    assert "GOMP_SPINCOUNT = '0'" in out and 'AT_START PASSIVE' in out
    out = _gomp_settings('import mmaction', OMP_WAIT_POLICY='ACTIVE')  # the user's wins
    assert "OMP_WAIT_POLICY = 'ACTIVE'" in out and 'AT_START ACTIVE' in out
    # torch first: too late to change, and the start line says so instead of claiming it
    out = _gomp_settings('import torch')
    assert "GOMP_SPINCOUNT = '300000'" in out and 'AT_START None' in out
