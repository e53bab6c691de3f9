"""Jobs that torchrun restarts (``--max-restarts N``) form their process group again.

torchrun keeps one store across restarts; the process group of each attempt starts in a
namespace of its own (``mmaction.engine.process_group.attempt_store``), so restarted workers
never read the addresses that the workers of an earlier attempt left there."""
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import torch.distributed as dist

from mmaction.engine.process_group import attempt_store

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORKER = '''
import sys
import torch
import torch.distributed as dist
from mmengine.config import Config
from mmaction.engine.launch import init_distributed
init_distributed('pytorch', Config(dict(dist_params=dict(backend='gloo', timeout=30))))
value = torch.tensor([float(dist.get_rank() + 1)])
dist.all_reduce(value)
print('sum', int(value.item()), flush=True)
'''


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _agent_store():
    """A store as torchrun's agent holds it for the whole job (static rendezvous): workers
    connect as clients (``TORCHELASTIC_USE_AGENT_STORE=True``)."""
    port = _free_port()
    store = dist.TCPStore('127.0.0.1', port, 1, True, timedelta(seconds=60), multi_tenant=True)
    return store, port


def _worker(rank, port, attempt):
    env = dict(os.environ, PYTHONPATH=ROOT, MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
               RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE='2', OMP_NUM_THREADS='1',
               TORCHELASTIC_USE_AGENT_STORE='True', TORCHELASTIC_RESTART_COUNT=str(attempt))
    return subprocess.Popen([sys.executable, '-c', WORKER], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(procs):
    """The outputs of the worker processes ``procs``; all of them end by 90 s (the group
    times out after 30 s)."""
    outs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=90)
            assert proc.returncode == 0, err[-3000:]
            outs.append(out)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return outs


def test_each_restart_attempt_has_its_own_namespace_of_the_store(monkeypatch):
    store, port = _agent_store()
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(port))
    monkeypatch.setenv('RANK', '1')
    monkeypatch.setenv('WORLD_SIZE', '2')
    monkeypatch.setenv('TORCHELASTIC_USE_AGENT_STORE', 'True')
    views = {}
    for attempt in ('0', '1'):
        monkeypatch.setenv('TORCHELASTIC_RESTART_COUNT', attempt)
        views[attempt], rank, world_size = attempt_store(timedelta(seconds=5))
        assert (rank, world_size) == (1, 2)
    views['0'].set('default_pg/rank_0', 'address of attempt 0')
    assert store.check(['attempt0/default_pg/rank_0'])  # one server, a namespace each
    assert store.get('attempt0/default_pg/rank_0') == b'address of attempt 0'
    assert not views['1'].check(['default_pg/rank_0'])  # attempt 1 does not see it
    views['1'].set('default_pg/rank_0', 'address of attempt 1')
    assert views['0'].get('default_pg/rank_0') == b'address of attempt 0'


def test_restarted_workers_form_the_group_again_on_the_store_of_the_first_attempt():
    """Attempt 0's two workers form a group and end, leaving their addresses in the store.
    Attempt 1's rank 1 starts first and rank 0 a moment later: without a namespace per
    attempt, rank 1 reads the address rank 0 of attempt 0 left and fails to connect
    ("Gloo connectFullMesh failed ... Connection refused")."""
    store, port = _agent_store()
    first = [_worker(rank, port, 0) for rank in (0, 1)]
    assert _finish(first) == ['sum 3\n'] * 2
    left = store.num_keys()
    late = _worker(1, port, 1)
    deadline = time.time() + 5
    while store.num_keys() == left and late.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # until rank 1 of attempt 1 has written its address
    time.sleep(0.5)
    restarted = [_worker(0, port, 1), late]
    assert _finish(restarted) == ['sum 3\n'] * 2


FAKE_SRUN = '''#!/usr/bin/env bash
# stands in for Slurm's srun: records its arguments, exits with the next status of the list
echo "$@" >> "{calls}"
status=$(head -n 1 "{statuses}"); sed -i 1d "{statuses}"
exit "$status"
'''


def _slurm_train(tmp_path, statuses, **env):
    """tools/slurm_train.sh under a fake srun that ends its job steps with ``statuses``;
    returns (exit status, srun's command lines, stderr)."""
    bin_dir, calls = tmp_path / 'bin', tmp_path / 'srun_calls.txt'
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / 'statuses.txt').write_text(''.join(f'{s}\n' for s in statuses))
    srun = bin_dir / 'srun'
    srun.write_text(FAKE_SRUN.format(calls=calls, statuses=tmp_path / 'statuses.txt'))
    srun.chmod(0o755)
    calls.write_text('')
    ann = tmp_path / 'train.txt'
    ann.write_text('a.mp4 0\n')
    out = subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'gpu', 'aim', 'configs/recognition/vit/'
         'vitclip_base_k400.py', str(tmp_path / 'work'), '--resume', '--cfg-options',
         f'data.train.ann_file={ann}'], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=ROOT, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
                 **env))
    return out.returncode, calls.read_text().splitlines(), out.stderr


def test_slurm_train_runs_a_failed_job_step_again_up_to_max_restarts(tmp_path):
    status, calls, err = _slurm_train(tmp_path, [137, 2], MAX_RESTARTS='2')
    assert status == 2 and len(calls) == 2  # restarted once; a user error is not retried
    assert 'the job step ended with status 137; restart 1 of 2' in err
    assert all(call.endswith('--launcher=slurm --resume --cfg-options data.train.ann_file='
                             f'{tmp_path / "train.txt"}') for call in calls)
    status, calls, err = _slurm_train(tmp_path, [137, 0])  # MAX_RESTARTS=0: as before
    assert status == 137 and len(calls) == 1
