"""The paper's component study on the built-in synthetic benchmark.

    python tools/analysis/ablation.py                 # one seed, writes docs/synthetic_benchmark.md
    python tools/analysis/ablation.py --seeds 0 1 2   # mean and range over seeds

Trains and tests, with the same data and image model, the frozen space-only baseline, then
spatial, temporal and joint adaptation added in turn (the last is full AIM), and full
fine-tuning of the same model for reference. Each run does what ``tools/train.py --validate``
then ``tools/test.py`` (3 views per video) do, in this process; logs go to ``--work-dir``.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import sys

import numpy as np

from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.synthetic import benchmark as bench
from mmaction.utils.fileio import write_text_atomic
from mmaction.utils.machine import cpu_name, load_average

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VIT = osp.join(ROOT, 'configs', 'recognition', 'vit')
VARIANTS = [
    ('frozen space-only baseline', 'vitclip_tiny_synthetic_space_only.py'),
    ('+ spatial adaptation', 'vitclip_tiny_synthetic_spatial.py'),
    ('+ temporal adaptation', 'vitclip_tiny_synthetic_temporal.py'),
    ('+ joint adaptation (AIM)', 'vitclip_tiny_synthetic.py'),
    ('full fine-tuning (reference)', 'vitclip_tiny_synthetic_finetune.py'),
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--work-dir', default='work_dirs/ablation')
    p.add_argument('--data-root', default='data/synthetic')
    p.add_argument('--out', default=osp.join(ROOT, 'docs', 'synthetic_benchmark.md'))
    p.add_argument('--only', nargs='+', choices=[config for _, config in VARIANTS],
                   help='config file names to run (default: all)')
    p.add_argument('--tiny', action='store_true', help='seconds-long smoke run')
    add_debug_argument(p)
    return p.parse_args(argv)


def machine() -> str:
    import torch
    return (f'{cpu_name()}, {os.cpu_count()} cores (load average {load_average():.1f} at the '
            f'end), torch {torch.__version__} '
            f'({torch.get_num_threads()} threads), Python {platform.python_version()}')


def summarise(values):
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f'{values[0]:.1f}'
    return f'{values.mean():.1f} ({values.min():.1f}-{values.max():.1f})'


def write_report(path, rows, seeds, command, data_args):
    lines = [
        '# The synthetic benchmark: what each adaptation contributes',
        '',
        'Two classes (an object moving right or left, wrapping around the frame edges) that no',
        'single frame and no average of frames can tell apart; chance is 50%. The image model',
        'is the small CLIP-shaped ViT that `tools/quickstart.py` pretrains on single frames',
        '(`mmaction/synthetic/tiny_clip.py`). Top-1 on the validation split, 3 views per video',
        '(as `tools/test.py`); train time is the wall time of training as `tools/train.py`',
        'does it (with validation every epoch).',
        '',
        f'Seeds: {", ".join(map(str, seeds))}' + (' (mean, and range over seeds)'
                                                   if len(seeds) > 1 else '') + '.',
        f'Data: {data_args}.',
        f'Machine: {machine()}.',
        f'Date: {datetime.date.today().isoformat()}.',
        '',
        'Reproduce with:',
        '',
        '```bash',
        command,
        '```',
        '',
        '| variant | config | top-1 (%) | top-5 (%) | tunable params | train time (s) |',
        '|---|---|---|---|---|---|',
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | `{row['config']}` | {summarise(row['top1'])} | "
            f"{summarise(row['top5'])} | "
            f"{row['tunable'] / 1e3:.1f}K of {row['total'] / 1e3:.1f}K | "
            f"{summarise(row['seconds'])} |")
    write_text_atomic(path, '\n'.join(lines) + '\n')


def main(argv=None):
    args = parse_args(argv)
    data_args = dict(num_train=2000, num_val=200, pretrain_iters=1500)
    if args.tiny:
        data_args = dict(num_train=8, num_val=4, pretrain_iters=3)
    work_root = osp.abspath(args.work_dir)
    rows = []
    for seed in args.seeds:
        # one data set and image model for every variant of a seed
        paths = bench.prepare(osp.abspath(args.data_root), seed=seed, **data_args)
        options = bench.data_options(paths)
        if args.tiny:
            options.update({'total_epochs': 1, 'checkpoint_config.interval': 1,
                            'data.videos_per_gpu': 4, 'data.workers_per_gpu': 0,
                            'data.val_dataloader.workers_per_gpu': 0,
                            'data.test_dataloader.workers_per_gpu': 0})
        for name, config in VARIANTS:
            if args.only and config not in args.only:
                continue
            work_dir = osp.join(work_root, f'{osp.splitext(config)[0]}_seed{seed}')
            os.makedirs(work_dir, exist_ok=True)
            path = osp.join(VIT, config)
            print(f'--- {name} ({config}), seed {seed}', flush=True)
            seconds = bench.train(path, work_dir, options, seed=seed,
                                  log_file=osp.join(work_dir, 'train_stdout.log'))
            metrics = bench.test(path, bench.last_checkpoint(work_dir), work_dir, options,
                                 log_file=osp.join(work_dir, 'test_stdout.log'))
            counts = bench.parameter_counts(path, options)
            print(f"    top-1 {100 * metrics['top1_acc']:.1f}%  train {seconds:.0f}s  "
                  f"tunable {counts['trainable']}", flush=True)
            row = next((r for r in rows if r['config'] == config), None)
            if row is None:
                row = dict(name=name, config=config, top1=[], top5=[], seconds=[],
                           tunable=counts['trainable'], total=counts['total'])
                rows.append(row)
            row['top1'].append(100 * metrics['top1_acc'])
            row['top5'].append(100 * metrics['top5_acc'])
            row['seconds'].append(seconds)
    command = 'python tools/analysis/ablation.py --seeds ' + ' '.join(map(str, args.seeds))
    write_report(args.out, rows, args.seeds, command,
                 dict(data_args, size=64, num_frames=16))
    with open(osp.join(work_root, 'ablation.json'), 'w') as f:
        json.dump(rows, f, indent=1)
    print(f'wrote {args.out}')
    return rows


if __name__ == '__main__':
    sys.exit(run_tool(main))
