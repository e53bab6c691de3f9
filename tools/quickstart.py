"""AIM end to end on a laptop, in a few minutes, with nothing to download.

    python tools/quickstart.py

1. writes a synthetic video benchmark (mp4 files) whose classes only motion tells apart;
2. pretrains a small CLIP-shaped image model on single frames and saves it in OpenAI's
   file layout;
3. trains AIM on top of it as ``tools/train.py --validate`` does, in this process (the
   frozen image model gets temporal, spatial and joint adapters; only those are trained);
4. tests it as ``tools/test.py`` does, on 3 views per video;
5. prints top-1/top-5 and the tunable/total parameters, and draws the training curves and
   the confusion matrix.

Everything lands in ``--work-dir`` (default ``work_dirs/quickstart``) and the data in
``--data-root`` (default ``data/synthetic``, reused when it already holds the same data).
"""
import argparse
import os
import os.path as osp
import sys
import time

from mmengine.config import DictAction

from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.synthetic import benchmark as bench

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', 'recognition', 'vit', 'vitclip_tiny_synthetic.py')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--work-dir', default='work_dirs/quickstart')
    p.add_argument('--data-root', default='data/synthetic')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--num-train', type=int, default=2000, help='training clips')
    p.add_argument('--num-val', type=int, default=200, help='validation/test clips')
    p.add_argument('--pretrain-iters', type=int, default=1500,
                   help='iterations of image-model pretraining (64 frames each)')
    p.add_argument('--epochs', type=int, help='AIM training epochs (default: the config\'s)')
    p.add_argument('--fresh', action='store_true', help='remake the data and the image model')
    p.add_argument('--tiny', action='store_true',
                   help='a seconds-long smoke run (a few clips, 1 epoch); numbers mean nothing')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='further overrides of the config, as for tools/train.py')
    add_debug_argument(p)
    return p.parse_args(argv)


def banner(step, text):
    print(f'\n=== [{step}/5] {text}', flush=True)


def load_tool(name):
    """A ``tools/analysis`` script as a module (``tools`` is not a package)."""
    import importlib.util
    path = osp.join(ROOT, 'tools', 'analysis', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    args = parse_args(argv)
    if args.tiny:
        args.num_train, args.num_val, args.pretrain_iters = 8, 4, 3
        args.epochs = args.epochs or 1
    if args.cfg_options:  # a typo is an error now, not after the data and the image model
        from mmaction.engine.commands import parse_train_args
        from mmaction.engine.config import load_config
        load_config(CONFIG, parse_train_args([CONFIG, '--cfg-options',
                                              *args.cfg_options]).cfg_options)
    work_dir = osp.abspath(args.work_dir)
    root = osp.abspath(args.data_root)
    os.makedirs(work_dir, exist_ok=True)
    times = {}

    banner('1-2', 'Synthetic videos and the image model')
    start = time.time()
    paths = bench.prepare(root, num_train=args.num_train, num_val=args.num_val,
                          seed=args.seed, pretrain_iters=args.pretrain_iters,
                          fresh=args.fresh)
    times['data + image model'] = time.time() - start

    options = bench.data_options(paths)
    if args.epochs:
        options.update({'total_epochs': args.epochs, 'checkpoint_config.interval': args.epochs})
    if args.tiny:
        options.update({'data.videos_per_gpu': 4, 'data.workers_per_gpu': 0,
                        'data.val_dataloader.workers_per_gpu': 0,
                        'data.test_dataloader.workers_per_gpu': 0})
    for item in args.cfg_options:  # values read as tools/train.py's --cfg-options reads them
        key, _, value = item.partition('=')
        options[key] = DictAction._parse_iterable(value)
    counts = bench.parameter_counts(CONFIG, options)

    banner(3, 'Training AIM (tools/train.py --validate)')
    times['training'] = bench.train(CONFIG, work_dir, options, seed=args.seed,
                                    log_file=osp.join(work_dir, 'train_stdout.log'),
                                    show_progress=True)
    checkpoint = bench.last_checkpoint(work_dir)

    banner(4, 'Multi-view test (tools/test.py, 3 clips per video)')
    metrics = bench.test(CONFIG, checkpoint, work_dir, options,
                         log_file=osp.join(work_dir, 'test_stdout.log'), show_progress=True)
    times['test'] = metrics['seconds']

    banner(5, 'Plots')
    curve = osp.join(work_dir, 'training_curve.png')
    matrix = osp.join(work_dir, 'confusion_matrix.png')
    load_tool('analyze_logs').main(['plot_curve', bench.scalars_file(work_dir), '--keys', 'loss',
                                    'top1_acc', '--legend', 'AIM', '--out', curve])
    load_tool('confusion_matrix').main([metrics['dump'], '--label-map', paths['label_map'],
                                        '--out', matrix])

    total = sum(times.values())
    print('\n' + '=' * 72)
    print(f"AIM on the synthetic benchmark ({metrics['num_videos']} test videos, 3 views each)")
    print(f"  top-1 {100 * metrics['top1_acc']:.1f}%   top-5 {100 * metrics['top5_acc']:.1f}%   "
          f"mean class accuracy {100 * metrics['mean_class_accuracy']:.1f}%")
    print(f"  tunable parameters {counts['trainable'] / 1e3:.1f}K of {counts['total'] / 1e3:.1f}K "
          f"({100 * counts['trainable'] / counts['total']:.1f}%)")
    print('  time: ' + ', '.join(f'{k} {v:.0f}s' for k, v in times.items())
          + f' (total {total:.0f}s)')
    print(f'  checkpoint      {checkpoint}')
    print(f'  logs            {osp.dirname(osp.dirname(bench.scalars_file(work_dir)))} '
          f'(full output: train_stdout.log, test_stdout.log)')
    print(f'  training curve  {curve}')
    print(f'  confusion       {matrix}')
    print('Chance is 50%; the frozen image model alone (no temporal adaptation) stays there:\n'
          '  python tools/analysis/ablation.py   (docs/synthetic_benchmark.md)')
    return dict(metrics, params=counts, times=times, checkpoint=checkpoint)


if __name__ == '__main__':
    sys.exit(run_tool(main))
