"""A run prints no warning that our code causes: a short training with validation and a test
on the CPU (``tools/quickstart.py --tiny``, data-loader workers on) with every Python warning
shown, and DDP built from our config with the arguments current torch wants."""
import os
import re
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: third-party warnings we cannot remove, each with why
ALLOWED = {
    # torch.distributed.optim (imported by mmengine.optim) scripts its functional optimizers
    # when imported, and torch 2.13 deprecates torch.jit
    r'torch/jit/_script\.py:\d+: DeprecationWarning: `torch\.jit\.(script|interface)` is '
    r'deprecated': 'torch.distributed.optim, imported by mmengine',
}
WARNING_LINE = re.compile(r'(\w*Warning: .*| - WARNING - .*)')


def _warnings(text: str) -> list:
    found = []
    for line in text.splitlines():
        if WARNING_LINE.search(line) and not any(re.search(p, line) for p in ALLOWED):
            found.append(line.strip())
    return found


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ('OMP_NUM_THREADS', 'RANK')}
    env.update(PYTHONPATH=ROOT, PYTHONWARNINGS='default', **extra)
    return env


def test_a_short_training_validation_and_test_run_prints_no_warning(tmp_path):
    workers = ['data.workers_per_gpu=1', 'data.val_dataloader.workers_per_gpu=1',
               'data.test_dataloader.workers_per_gpu=1']
    out = subprocess.run(
        [sys.executable, 'tools/quickstart.py', '--tiny', '--work-dir', str(tmp_path / 'work'),
         '--data-root', str(tmp_path / 'data'), '--cfg-options', *workers],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    logs = out.stdout + out.stderr
    assert out.returncode == 0, logs[-3000:]
    for name in ('train_stdout.log', 'test_stdout.log'):
        with open(tmp_path / 'work' / name) as f:
            logs += f.read()
    assert 'Epoch(val)' in logs and 'Epoch(test)' in logs  # it did validate and test
    assert _warnings(logs) == []
    # what used to be printed on every run
    for text in ('FileClient', 'HardDiskBackend', 'The prefix is not set',
                 'Hooks will be executed in the following order'):
        assert text not in logs
    # the start line, once per runner (training, test) and before the pretraining
    lines = re.findall(r'CPU threads: \d+ in the main process \([^)]*\)[^\n]*', logs)
    assert any('1 per data-loader worker' in line for line in lines), lines
    assert all('OpenMP wait policy PASSIVE' in line for line in lines), lines


def test_ddp_gets_forward_sync_buffers_and_warns_nothing():
    code = textwrap.dedent('''
        import os, warnings
        import torch, torch.distributed as dist
        from mmengine.config import Config
        from mmengine.model import MMDistributedDataParallel
        from mmaction.engine.config import adapt_to_device
        os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=os.environ['PORT'])
        dist.init_process_group('gloo', rank=0, world_size=1)
        # mmengine's dialect (no wrapper: mmengine's default) and AIM's (our translation)
        for given in (None, dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                                 find_unused_parameters=False)):
            cfg = adapt_to_device(Config(dict(model_wrapper_cfg=given)), cuda=False,
                                  distributed=True)
            wrapper = dict(cfg.model_wrapper_cfg)
            print('WRAPPER', sorted(wrapper.items()))
            wrapper.pop('type')
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                MMDistributedDataParallel(module=torch.nn.Linear(2, 2), **wrapper)
            print('CAUGHT', [str(w.message)[:80] for w in caught])
        dist.destroy_process_group()
    ''')
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=_env(PORT=str(port)),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    wrappers = [line for line in out.stdout.splitlines() if line.startswith('WRAPPER')]
    assert len(wrappers) == 2
    for line in wrappers:
        assert "('forward_sync_buffers', False)" in line and 'broadcast_buffers' not in line
    assert out.stdout.count('CAUGHT []') == 2, out.stdout
