"""The quickstart on a CPU alone and beside another CPU-heavy process, for the code of this
checkout or of another commit (the "before" of a change).

    python tools/analysis/bench_shared_cpu.py --runs 3                 # this checkout
    python tools/analysis/bench_shared_cpu.py --runs 3 --commit a2c433a  # the code of a commit
    python tools/analysis/bench_shared_cpu.py --tiny --runs 1          # a check of the script

Each run is ``python tools/quickstart.py --fresh`` (data, image-model pretraining, training,
test; ``--tiny``: the seconds-long smoke run) in a new process, in a temporary folder, with
``OMP_NUM_THREADS`` and ``OMP_WAIT_POLICY`` removed from its environment so that the code's
own thread choices apply. "beside" runs it while another process keeps every usable core busy:
``--busy matmul`` (default) is a torch program multiplying matrices on as many threads as
there are cores (torch's defaults, as a user's other job would run), ``--busy spin`` is one
pure-Python busy loop per core. Reports the wall time of each run, and per setting the minimum,
the median and the median's ratio beside/alone. Timings need a machine nobody else uses.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from mmaction.engine.launch import run_tool
from mmaction.utils.machine import cpu_name, load_average
from mmaction.utils.threads import cgroup_cpu_limit, usable_cores

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MATMUL = '''
import torch
torch.set_num_threads({cores})
a = torch.randn(512, 512)
while True:
    a = (a @ a).tanh_()
'''
SPIN = 'while True: pass'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--runs', type=int, default=3, help='runs per setting (alone, beside)')
    p.add_argument('--tiny', action='store_true', help='quickstart --tiny (checks the script)')
    p.add_argument('--busy', choices=('matmul', 'spin'), default='matmul',
                   help='what keeps the cores busy in the "beside" setting')
    where = p.add_mutually_exclusive_group()
    where.add_argument('--commit', help='run the code of this git commit (git archive into a '
                       'temporary folder) instead of this checkout')
    where.add_argument('--code', default=ROOT, help='a checkout to run (default: this one)')
    p.add_argument('--settings', nargs='+', choices=('alone', 'beside'),
                   default=['alone', 'beside'])
    p.add_argument('--out', help='also write the results as JSON')
    p.add_argument('--keep', metavar='DIR', help="keep the last run's data and work dir as "
                   'DIR/data and DIR/work (e.g. for tools/analysis/demo_assets.py); by '
                   'default every run folder is deleted')
    return p.parse_args(argv)


def _clean_env(code: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OMP_WAIT_POLICY', 'RANK')}
    env['PYTHONPATH'] = code
    return env


def _start_busy(kind: str, cores: int) -> list:
    env = _clean_env(ROOT)
    if kind == 'matmul':
        commands = [[sys.executable, '-c', MATMUL.format(cores=cores)]]
    else:
        commands = [[sys.executable, '-c', SPIN]] * cores
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for c in commands]
    time.sleep(3)  # torch imported, threads running
    for proc in procs:
        if proc.poll() is not None:
            raise RuntimeError(f'the busy process {proc.args} ended with {proc.returncode}')
    return procs


def _stop(procs: list) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


def run_quickstart(code: str, tiny: bool, folder: str) -> float:
    """Seconds of one fresh quickstart run of the checkout ``code``, in ``folder``."""
    command = [sys.executable, osp.join(code, 'tools', 'quickstart.py'), '--fresh',
               '--work-dir', osp.join(folder, 'work'), '--data-root', osp.join(folder, 'data')]
    if tiny:
        command.append('--tiny')
    start = time.time()
    out = subprocess.run(command, cwd=code, env=_clean_env(code), capture_output=True,
                         text=True)
    seconds = time.time() - start
    if out.returncode != 0:
        raise RuntimeError(f'{" ".join(command)} failed:\n{(out.stdout + out.stderr)[-3000:]}')
    if 'top-1' not in out.stdout:
        raise RuntimeError(f'the quickstart printed no result:\n{out.stdout[-2000:]}')
    return seconds


def _checkout(commit: str, folder: str) -> str:
    code = osp.join(folder, 'code')
    os.makedirs(code)
    archive = subprocess.run(['git', 'archive', commit], cwd=ROOT, capture_output=True,
                             check=True).stdout
    subprocess.run(['tar', '-x', '-C', code], input=archive, check=True)
    return code


def summary(seconds: list) -> dict:
    return dict(runs=seconds, min=min(seconds), median=statistics.median(seconds))


def main(argv=None):
    args = parse_args(argv)
    cores = usable_cores(quota=cgroup_cpu_limit())
    folder = tempfile.mkdtemp(prefix='bench_shared_cpu_')
    try:
        code = _checkout(args.commit, folder) if args.commit else osp.abspath(args.code)
        label = args.commit or code
        results = dict(code=label, tiny=args.tiny, busy=args.busy, cores=cores,
                       cpu=cpu_name(), date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))
        for setting in args.settings:
            seconds = []
            for i in range(args.runs):
                load = load_average()
                busy = _start_busy(args.busy, cores) if setting == 'beside' else []
                try:
                    run_folder = osp.join(folder, f'{setting}{i}')
                    seconds.append(run_quickstart(code, args.tiny, run_folder))
                finally:
                    _stop(busy)
                if args.keep:
                    shutil.rmtree(args.keep, ignore_errors=True)
                    shutil.move(run_folder, args.keep)
                print(f'{setting:6s} run {i + 1}/{args.runs}: {seconds[-1]:7.1f} s '
                      f'(load average before: {load:.2f})', flush=True)
            results[setting] = summary(seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f'\nquickstart{" --tiny" if args.tiny else ""} of {label}, {cores} usable cores '
          f'({results["cpu"]}), beside: --busy {args.busy}')
    print('| setting | runs | min (s) | median (s) |\n|---|---|---|---|')
    for setting in args.settings:
        r = results[setting]
        print(f'| {setting} | {len(r["runs"])} | {r["min"]:.1f} | {r["median"]:.1f} |')
    if 'alone' in results and 'beside' in results:
        results['ratio_median'] = results['beside']['median'] / results['alone']['median']
        print(f'beside / alone (medians): {results["ratio_median"]:.2f}x')
    if args.out:
        from mmaction.utils.fileio import write_text_atomic
        write_text_atomic(args.out, json.dumps(results, indent=1))
    return results


if __name__ == '__main__':
    sys.exit(run_tool(main))
