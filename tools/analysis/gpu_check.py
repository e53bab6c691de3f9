"""What only a GPU can show, measured in one run of at most ``--budget`` seconds (8 minutes).

    # on a CUDA machine: a Markdown report and the figures as JSON
    python tools/analysis/gpu_check.py --out gpu_report.md
    # the same code on the CPU with a tiny model, in under a minute (what CI runs)
    python tools/analysis/gpu_check.py --device cpu --tiny --out report.md --tests tests/test_gpu

Parts, in this order; each gets a share of the budget and what does not fit is listed as not
run (the report and the JSON are rewritten after every row, so a run cut short keeps what it
measured):

1. the tests marked ``gpu``, with their outcomes;
2. training and inference steps of ViT-B/16 and ViT-L/14 on 8x224 clips, batch 8 and 32: the
   AIM-style baseline (explicit-softmax attention, fp16 autocast with a loss scaler, as AIM
   ran under apex) against ours (SDPA in bf16 and fp16; with ``torch.compile`` of the
   backbone, ``with_cp``, fused AdamW): clips/s, peak memory, counted FLOPs and model-FLOPs
   utilisation over the device's dense bf16 peak;
3. AIM's single-GPU recipe for ViT-B/16 (``vitclip_base_k400.py``, ``videos_per_gpu=8``, with
   ``update_interval=8`` for the effective batch of 64, which adds no memory): peak memory
   against an 11 GiB card, in fp16 (such cards have no bf16) with ``with_cp`` False,
   'selective' and True, each beside what ``tools/analysis/memory_plan.py`` predicts for the
   same settings (counted on fake tensors in the same process before the row is measured);
4. the data side: clips/s of that config's training pipeline through a ``DataLoader`` with
   the machine's cores as workers, against the clips/s the model trains on.
"""
import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import os.path as osp
import platform
import queue as queue_module
import re
import subprocess
import sys
import tempfile
import time

from mmaction.engine.launch import add_debug_argument, run_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

BASE_K400 = 'configs/recognition/vit/vitclip_base_k400.py'
ARCHS = {
    'ViT-B/16': BASE_K400,
    'ViT-L/14': 'configs/recognition/vit/vitclip_large_k400.py',
    'tiny': 'configs/recognition/vit/vitclip_tiny_synthetic.py',
}
SMALL_CARD_MIB = 11 * 1024  # the seed notes' GTX 1080 Ti
BASELINE = dict(attn='math', precision='fp16', compile=False, cp=False, fused=False)


def variant(**kw):
    return dict(dict(attn='sdpa', precision='bf16', compile=False, cp=False, fused=False), **kw)


def label(row) -> str:
    if all(row[k] == v for k, v in BASELINE.items()):
        return 'AIM-style baseline (explicit softmax, fp16 + loss scaler)'
    parts = [f"SDPA {row['precision']}"] if row['attn'] == 'sdpa' else \
        [f"explicit softmax {row['precision']}"]
    parts += [name for name in ('compile', 'cp', 'fused') if row[name]]
    cp = "with_cp='selective'" if row['cp'] == 'selective' else 'with_cp'
    return ' + '.join(parts).replace('cp', cp).replace('fused', 'fused AdamW')


def plan(tiny: bool):
    """Groups of rows, one model (and one process) per group, most important first."""
    # eager rows before compiled ones: a model, once compiled, stays compiled in its process
    order = lambda rows: sorted(rows, key=lambda r: r['compile'])  # noqa: E731 (stable)
    if tiny:
        arch, frames, size = 'tiny', 4, 32
        train = [BASELINE, variant(), variant(precision='fp16'), variant(cp=True),
                 variant(fused=True), variant(compile=True)]
        rows = [dict(v, mode='train', batch=2) for v in train] + \
            [dict(v, mode='infer', batch=2) for v in (BASELINE, variant())]
        return [('tiny', arch, frames, size, order(rows)),
                ('recipe', arch, frames, size,
                 [dict(variant(precision='fp16', cp=cp), mode='train', batch=2, recipe=True)
                  for cp in (False, 'selective', True)])]
    train_b8 = [BASELINE, variant(), variant(precision='fp16'), variant(fused=True),
                variant(cp=True), variant(compile=True), variant(compile=True, fused=True),
                variant(precision='fp16', compile=True)]
    infer = [BASELINE, variant(), variant(precision='fp16'), variant(compile=True)]
    base = ([dict(v, mode='train', batch=8) for v in train_b8] +
            [dict(v, mode='infer', batch=32) for v in infer] +
            [dict(v, mode='train', batch=32) for v in (BASELINE, variant(), variant(cp=True))] +
            [dict(v, mode='infer', batch=8) for v in (BASELINE, variant())])
    recipe = [dict(variant(precision='fp16', cp=cp), mode='train', batch=8, recipe=True)
              for cp in (True, 'selective', False)]
    large = ([dict(v, mode='train', batch=8) for v in (BASELINE, variant(), variant(cp=True),
                                                        variant(compile=True))] +
             [dict(v, mode='infer', batch=32) for v in (BASELINE, variant())] +
             [dict(v, mode='train', batch=32) for v in (variant(cp=True), )])
    return [('ViT-B/16', 'ViT-B/16', 8, 224, order(base)),
            ('recipe', 'ViT-B/16', None, 224, recipe),  # the config's own frames
            ('ViT-L/14', 'ViT-L/14', 8, 224, order(large))]


# ----------------------------------------------------------------------------- model rows
def group_worker(arch, frames, size, rows, device, results, peak_tflops, compile_cfg):
    """Build ``arch`` once and measure ``rows`` in order, putting each result on ``results``."""
    import torch
    from mmengine.config import Config

    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmaction.utils.complexity import clip_len_of
    from mmaction.utils.throughput import measure, set_attention, utilisation

    register_all_modules()
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(ROOT, ARCHS[arch]))
    cfg.model.backbone.pretrained = None  # random weights: speed does not depend on them
    frames = frames or clip_len_of(cfg)
    cfg.model.backbone.num_frames = frames
    model = MODELS.build(cfg.model).to(device)
    eager_flops = {}
    for row in rows:
        row = dict(row, arch=arch, frames=frames, size=size)
        if row.get('recipe'):
            row.update(planned(cfg, row))
        try:
            set_attention(model, row['attn'])
            model.backbone.with_cp = row['cp']
            key = (row['mode'], row['batch'], row['cp'], row['precision'])
            if row['compile'] and getattr(model.backbone, '_compiled_call_impl', None) is None:
                model.backbone.compile(**compile_cfg)
            result = measure(model, mode=row['mode'], batch=row['batch'], frames=frames,
                             size=size, precision=row['precision'], device=device,
                             warmup=3 if device != 'cpu' else 1,
                             iters=10 if device != 'cpu' else 1, fused=row['fused'],
                             count_flops=not row['compile'])
            if row['compile']:  # the flop counter sees the eager model's operations only
                result['flops_per_step'] = eager_flops.get(key)
            else:
                eager_flops[key] = result['flops_per_step']
            result.update(utilisation(result, peak_tflops))
            row.update(result)
        except torch.cuda.OutOfMemoryError:
            row['error'] = 'out of memory'
            torch.cuda.empty_cache()
        except Exception as err:  # a row that fails must not hide the others
            row['error'] = f'{type(err).__name__}: {str(err).splitlines()[0][:200]}'
        results.put(row)
    results.put(None)


def planned(cfg, row) -> dict:
    """memory_plan.py's prediction for ``row``'s settings (one 1-view clip of its shape)."""
    from tools.analysis import memory_plan
    try:
        shape = dict(views=1, frames=row['frames'], height=row['size'], width=row['size'])
        result = memory_plan.plan(cfg, batches=(row['batch'], ), precisions=(row['precision'], ),
                                  with_cp=(row['cp'], ), shape=shape)
    except Exception as err:  # the measurement still runs
        return dict(plan_error=f'{type(err).__name__}: {str(err).splitlines()[0][:200]}')
    plan_row = result['rows'][0]
    allocated = sum(result['state'].values()) + plan_row['activation_bytes'] + \
        plan_row['recompute_bytes']
    return dict(planned_allocated_mib=allocated / 2**20,
                planned_peak_mib=plan_row['peak_bytes'] / 2**20)


def run_groups(groups, device, deadline, report, peak_tflops, compile_cfg):
    ctx = mp.get_context('spawn')
    for index, (name, arch, frames, size, rows) in enumerate(groups):
        left = deadline - time.time()
        # later groups keep a share: the first gets 1/2 of what is left, the next 0.6, the last all
        share = left * (1.0 if index == len(groups) - 1 else (0.5 if index == 0 else 0.6))
        group_deadline = time.time() + share
        if left < 10:
            report['not_run'] += [dict(r, arch=arch, group=name) for r in rows]
            continue
        results = ctx.Queue()
        proc = ctx.Process(target=group_worker,
                           args=(arch, frames, size, rows, device, results, peak_tflops,
                                 compile_cfg))
        proc.start()
        done = 0
        while done < len(rows):
            try:
                row = results.get(timeout=max(group_deadline - time.time(), 0.1))
            except queue_module.Empty:
                break
            if row is None:
                break
            row['group'] = name
            report['rows'].append(row)
            done += 1
            write_report(report)
        if proc.is_alive():
            proc.terminate()
        proc.join()
        report['not_run'] += [dict(r, arch=arch, group=name) for r in rows[done:]]
        write_report(report)


# ----------------------------------------------------------------------------- tests
def run_tests(path, timeout):
    """The ``gpu``-marked tests under ``path``; each outcome as pytest reports it (``-v``:
    one line per test as it ends, so a run stopped by the timeout keeps what it finished)."""
    command = [sys.executable, '-m', 'pytest', '-m', 'gpu', '-v', '-rs', '-p',
               'no:cacheprovider', path]
    start = time.time()
    try:
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, env=dict(os.environ, PYTHONPATH=ROOT))
        output, timed_out = proc.stdout + proc.stderr, False
    except subprocess.TimeoutExpired as err:
        output = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or '')
        timed_out = True
    outcomes = []
    for line in output.splitlines():
        match = re.match(r'^(\S+::\S+)\s+(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b', line)
        if match:
            outcomes.append(dict(test=match.group(1), outcome=match.group(2)))
    summary = next((line.strip('= ') for line in reversed(output.splitlines())
                    if re.search(r'\d+ (passed|failed|skipped|deselected|error)', line)), '')
    failures = [line for line in output.splitlines() if line.startswith(('E ', 'FAILED'))]
    return dict(command=' '.join(command[1:]), seconds=time.time() - start, outcomes=outcomes,
                summary=summary if not timed_out else
                f'stopped after {timeout:.0f} s, {len(outcomes)} tests finished',
                failures=failures[:40])


# ----------------------------------------------------------------------------- data side
def _load_bench_processing():
    spec = importlib.util.spec_from_file_location(
        'bench_processing', osp.join(ROOT, 'tools', 'analysis', 'bench_processing.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _encode(job):
    bench, (path, seed, encoding) = _load_bench_processing(), job
    bench.make_video(path, seed, **encoding)


def loader_throughput(config, workers, seconds, tiny, video_dir):
    """Clips/s of ``config``'s training pipeline through a DataLoader with ``workers``."""
    import torch
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate

    from mmaction.registry import DATASETS
    from mmaction.utils import register_all_modules

    register_all_modules()
    bench = _load_bench_processing()
    encoding = dict(codec='libx264', width=64, height=48, fps=16, seconds=2,
                    options={}) if tiny else bench.ENCODING
    count = 2 if tiny else 8
    os.makedirs(video_dir, exist_ok=True)
    paths = [osp.join(video_dir, f'clip{i:02d}.mp4') for i in range(count)]
    todo = [(p, i, encoding) for i, p in enumerate(paths) if not osp.isfile(p)]
    if todo:
        with mp.get_context('spawn').Pool(min(len(todo), os.cpu_count() or 1)) as pool:
            pool.map(_encode, todo)
    ann = osp.join(video_dir, 'list.txt')
    with open(ann, 'w') as f:
        f.write(''.join(f'{osp.basename(p)} 0\n' for p in paths) * 64)
    cfg = Config.fromfile(osp.join(ROOT, config))
    pipeline = cfg.data.train.pipeline
    dataset = DATASETS.build(dict(type='VideoDataset', ann_file=ann, data_prefix=video_dir,
                                  pipeline=pipeline))
    loader = torch.utils.data.DataLoader(dataset, batch_size=2 if tiny else 8,
                                         num_workers=workers, collate_fn=pseudo_collate,
                                         shuffle=True)
    batches = iter(loader)
    next(batches)  # workers started, first batch through
    clips, start = 0, time.perf_counter()
    for batch in batches:
        clips += len(batch['inputs'])
        if time.perf_counter() - start > seconds:
            break
    elapsed = time.perf_counter() - start
    return dict(config=config, workers=workers, clips=clips, seconds=elapsed,
                clips_per_s=clips / elapsed if elapsed else 0.0, video=(
                    f"{encoding['width']}x{encoding['height']}, {encoding['fps']} fps, "
                    f"{encoding['seconds']} s, {encoding['codec']}"))


# ----------------------------------------------------------------------------- report
def environment(device):
    import torch
    env = dict(python=platform.python_version(), torch=torch.__version__,
               cuda=torch.version.cuda, cpus=os.cpu_count(), device=device)
    if device == 'cuda' and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env.update(device_name=props.name, memory_gib=props.total_memory / 2**30,
                   capability=f'{props.major}.{props.minor}',
                   cudnn=torch.backends.cudnn.version(), gpus=torch.cuda.device_count())
    else:
        from mmaction.utils.machine import cpu_name
        env['device_name'] = cpu_name()
    return env


def _fmt(value, spec):
    return format(value, spec) if isinstance(value, (int, float)) else '-'


def targets(report):
    rows = [r for r in report['rows'] if 'clips_per_s' in r]

    def best(arch, mode, batch, ours=True):
        found = [r for r in rows if r['arch'] == arch and r['mode'] == mode and
                 r['batch'] == batch and not r.get('recipe') and
                 (label(r).startswith('AIM-style') != ours)]
        return max(found, key=lambda r: r['clips_per_s'], default=None)

    tiny = any(r['arch'] == 'tiny' for r in rows + report['not_run'])
    arch, (train_batch, infer_batch) = ('tiny', (2, 2)) if tiny else ('ViT-B/16', (8, 32))
    out = []
    for mode, batch, what in (('train', train_batch, f'training step, batch {train_batch}'),
                              ('infer', infer_batch, f'inference, batch {infer_batch}')):
        ours, base = best(arch, mode, batch), best(arch, mode, batch, ours=False)
        if ours and base:
            ratio = ours['clips_per_s'] / base['clips_per_s']
            out.append(dict(target=f'{arch} {what}: at least 2x the baseline',
                            measured=f"{ratio:.2f}x ({label(ours)})", met=ratio >= 2))
        else:
            out.append(dict(target=f'{arch} {what}: at least 2x the baseline',
                            measured='not measured', met=None))
    bf16 = [r for r in rows if r['arch'] == arch and r['mode'] == 'train' and
            r['precision'] == 'bf16' and r.get('mfu') is not None]
    top = max(bf16, key=lambda r: r['mfu'], default=None)
    out.append(dict(target=f'{arch} training MFU in bf16: at least 40% (H100/H200)',
                    measured=f"{100 * top['mfu']:.1f}% ({label(top)}, batch {top['batch']})"
                    if top else 'not measured', met=top['mfu'] >= 0.4 if top else None))
    recipe = [r for r in rows if r.get('recipe')]
    fits = [r for r in recipe if r['peak_mem_mib'] <= SMALL_CARD_MIB]
    out.append(dict(target=f'single-GPU recipe ({arch}, {train_batch} videos): at most 11 GiB '
                    'peak',
                    measured=', '.join(f"{label(r)}: {r['peak_mem_mib'] / 1024:.1f} GiB"
                                       for r in recipe) or 'not measured',
                    met=bool(fits) if recipe else None))
    return out


def render(report) -> str:
    env = report['environment']
    lines = ['# GPU check', '', f"Command: `{report['command']}`", '',
             f"Device: {env.get('device_name')} ({env['device']}"
             + (f", {env['memory_gib']:.0f} GiB, compute capability {env['capability']}, "
                f"{env['gpus']} GPU(s)" if 'memory_gib' in env else '')
             + f"); {env['cpus']} CPU cores; Python {env['python']}, torch {env['torch']}, "
             f"CUDA {env['cuda']}" + (f", cuDNN {env['cudnn']}" if env.get('cudnn') else '')
             + '.', '',
             f"MFU is over {report['peak_tflops']} TFLOP/s, the device's dense bf16 peak "
             '(datasheet)' if report['peak_tflops'] else
             'MFU: no dense bf16 peak is known for this device (give --peak-tflops).', '',
             f"Started {report['started']}; {report['elapsed_s']:.0f} s of a "
             f"{report['budget_s']:.0f} s budget.", '']
    tests = report.get('tests')
    lines += ['## GPU tests', '']
    if tests:
        lines += [f"`{tests['command']}`: {tests['summary']} ({tests['seconds']:.0f} s)", '',
                  '| test | outcome |', '|---|---|']
        lines += [f"| {t['test']} | {t['outcome']} |" for t in tests['outcomes']]
        if tests.get('failures'):
            lines += ['', '```'] + tests['failures'] + ['```']
    else:
        lines.append('not run')
    lines += ['', '## Training and inference steps', '',
              'Random clips, float input (decoding is the data side below); one process per '
              'model; steps timed after warm-up (compiled rows: their first step, in '
              '"first s", includes compilation). Peak memory: '
              '`torch.cuda.max_memory_allocated` over the row (CPU: the process\'s peak '
              'resident memory). FLOPs: torch\'s flop counter over one step as run (frozen '
              'weights get no weight gradients; with_cp recomputation included).', '',
              '| model | mode | frames | batch | variant | clips/s | vs baseline | '
              'peak MiB | first s | TFLOP/s | MFU |', '|' + '---|' * 11]
    for row in report['rows']:
        base = next((r for r in report['rows'] if r['group'] == row['group'] and
                     r['mode'] == row['mode'] and r['batch'] == row['batch'] and
                     label(r).startswith('AIM-style') and 'clips_per_s' in r), None)
        ratio = row['clips_per_s'] / base['clips_per_s'] if base and 'clips_per_s' in row \
            else None
        name = label(row) + (' (single-GPU recipe)' if row.get('recipe') else '')
        if 'error' in row:
            lines.append(f"| {row['arch']} | {row['mode']} | {row['frames']} | {row['batch']} "
                         f"| {name} | {row['error']} | | | | | |")
            continue
        lines.append(
            f"| {row['arch']} | {row['mode']} | {row['frames']} | {row['batch']} | {name} | "
            f"{row['clips_per_s']:.2f} | {_fmt(ratio, '.2f')}{'x' if ratio else ''} | "
            f"{row['peak_mem_mib']:.0f} | {row['first_step_s']:.1f} | "
            f"{_fmt(row.get('tflops_per_s'), '.1f')} | "
            f"{_fmt(100 * row['mfu'] if row.get('mfu') is not None else None, '.1f')}"
            f"{'%' if row.get('mfu') is not None else ''} |")
    if report['not_run']:
        lines += ['', 'Not run (out of budget): ' + '; '.join(
            f"{r['arch']} {r['mode']} b{r['batch']} {label(r)}" for r in report['not_run'])]
    lines += ['', '## Memory plan against measurement', '',
              '`tools/analysis/memory_plan.py` for the same settings: "allocated" is its '
              'parameters + gradients + AdamW states + activations (+ the recomputed block '
              'under with_cp=True), to compare with `max_memory_allocated` (CPU: peak resident '
              'memory, not comparable); "peak" adds its stated margin for the CUDA context, '
              'workspaces and fragmentation.', '',
              '| model | frames | batch | variant | measured MiB | planned allocated MiB | '
              'measured / planned | planned peak MiB |', '|' + '---|' * 8]
    for row in report['rows']:
        if not row.get('recipe'):
            continue
        if 'planned_allocated_mib' not in row or 'peak_mem_mib' not in row:
            why = row.get('plan_error') or row.get('error') or 'not measured'
            lines.append(f"| {row['arch']} | {row['frames']} | {row['batch']} | {label(row)} "
                         f'| {why} | | | |')
            continue
        lines.append(f"| {row['arch']} | {row['frames']} | {row['batch']} | {label(row)} | "
                     f"{row['peak_mem_mib']:.0f} | {row['planned_allocated_mib']:.0f} | "
                     f"{row['peak_mem_mib'] / row['planned_allocated_mib']:.2f} | "
                     f"{row['planned_peak_mib']:.0f} |")
    data = report.get('data')
    lines += ['', '## Data side', '']
    if data and 'clips_per_s' in data:
        consumer = max((r for r in report['rows'] if r.get('recipe') and 'clips_per_s' in r),
                       key=lambda r: r['clips_per_s'], default=None)
        lines.append(f"`{data['config']}` training pipeline, {data['workers']} data-loader "
                     f"workers, generated videos ({data['video']}): **{data['clips_per_s']:.1f}"
                     f" clips/s** ({data['clips']} clips in {data['seconds']:.1f} s).")
        if consumer:
            limit = 'the data loader' if data['clips_per_s'] < consumer['clips_per_s'] \
                else 'the model'
            lines.append(f"The model trains on {consumer['clips_per_s']:.1f} clips/s "
                         f"({label(consumer)}, {consumer['frames']} frames, batch "
                         f"{consumer['batch']}): the limit is {limit}.")
    else:
        lines.append(f"not run{': ' + data['error'] if data and 'error' in data else ''}")
    lines += ['', '## Targets', '', '| target | measured | met |', '|---|---|---|']
    for t in targets(report):
        met = {True: 'yes', False: 'no', None: '-'}[t['met']]
        lines.append(f"| {t['target']} | {t['measured']} | {met} |")
    return '\n'.join(lines) + '\n'


def write_report(report):
    from mmaction.utils import write_text_atomic
    report['elapsed_s'] = time.time() - report['_start']
    write_text_atomic(report['_out'], render(report))
    write_text_atomic(report['_json'], json.dumps(
        {k: v for k, v in report.items() if not k.startswith('_')}, indent=1, default=str))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default='gpu_report.md', help='Markdown report')
    parser.add_argument('--json', help='figures as JSON (default: --out with .json)')
    parser.add_argument('--device', default='cuda', choices=('cuda', 'cpu'))
    parser.add_argument('--tiny', action='store_true',
                        help='the quickstart\'s tiny model at 4x32x32 instead of ViT-B/L')
    parser.add_argument('--budget', type=float, default=480, help='seconds for everything')
    parser.add_argument('--tests', default='tests', help='where the gpu-marked tests are')
    parser.add_argument('--skip', nargs='+', default=[], choices=('tests', 'models', 'data'))
    parser.add_argument('--workers', type=int, help='data-loader workers (default: CPU cores)')
    parser.add_argument('--video-dir', help='where the data side writes its videos')
    parser.add_argument('--peak-tflops', type=float,
                        help="the device's dense bf16 peak for MFU (default: known devices)")
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch

    from mmaction.utils.throughput import device_peak_tflops
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is visible (use --device cpu --tiny '
                         'to check the script itself).')
    start = time.time()
    env = environment(args.device)
    peak = args.peak_tflops or (device_peak_tflops(env['device_name'], 'bf16')
                                if args.device == 'cuda' else None)
    report = dict(command='python tools/analysis/gpu_check.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:]), environment=env, peak_tflops=peak,
        budget_s=args.budget, started=time.strftime('%Y-%m-%d %H:%M:%S'), rows=[],
        not_run=[], tests=None, data=None, _start=start, _out=args.out,
        _json=args.json or osp.splitext(args.out)[0] + '.json')
    write_report(report)
    data_share = 0.1 * args.budget
    if 'tests' not in args.skip:
        report['tests'] = run_tests(args.tests, timeout=0.4 * args.budget)
        write_report(report)
    if 'models' not in args.skip:
        # --tiny checks the script: aot_eager traces what inductor would compile, in seconds
        run_groups(plan(args.tiny), args.device, start + args.budget - data_share, report,
                   peak, dict(backend='aot_eager') if args.tiny else {})
    if 'data' not in args.skip:
        workers = args.workers or max(1, (os.cpu_count() or 2) - 1)
        left = start + args.budget - time.time()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                report['data'] = loader_throughput(
                    ARCHS['tiny'] if args.tiny else BASE_K400, workers,
                    max(min(left - 15, 30), 2), args.tiny, args.video_dir or tmp)
        except Exception as err:
            report['data'] = dict(error=f'{type(err).__name__}: {err}')
    write_report(report)
    print(render(report))
    return report


if __name__ == '__main__':
    sys.exit(run_tool(main))
