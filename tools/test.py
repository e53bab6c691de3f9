"""Test a checkpoint: AIM's ``tools/test.py`` command line on mmengine's Runner.

    python tools/test.py CONFIG CHECKPOINT [--eval top_k_accuracy mean_class_accuracy]
        [--out results.pkl|results.json] [--dump samples.pkl] [--average-clips prob|score|none]
        [--amp {fp16,bf16,none}] [--compile] [--cfg-options KEY=VALUE ...]
        [--launcher none|pytorch|slurm|mpi] [--debug]

Several GPUs: ``bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [the options above]``. Under
DDP every video counts exactly once (the sampler's padding is dropped before evaluation).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402

from mmaction.engine import (adapt_to_device, apply_cfg_options,  # noqa: E402
                             translate_config)
from mmaction.engine.config_checks import (ConfigError, check_input_files,  # noqa: E402
                                           load_config)
from mmaction.engine.config_dialect import is_legacy_dialect  # noqa: E402
from mmaction.engine.launch import (EarlyLogs, add_debug_argument,  # noqa: E402
                                    add_launcher_arguments, build_runner, default_work_dir,
                                    export_local_rank, init_distributed, run_tool)
from mmaction.engine.optim import AMP_CHOICES, requested_precision  # noqa: E402

EVAL_METRICS = ('top_k_accuracy', 'mean_class_accuracy', 'mean_average_precision',
                'mmit_mean_average_precision')
UNSUPPORTED = ('--onnx', '--tensorrt')


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for flag in UNSUPPORTED:
        if flag in argv:
            raise SystemExit(f'{flag} (model export) is not supported by this tool.')
    parser = argparse.ArgumentParser(description='Test a video recognizer (AIM).')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (ours, a released AIM one, or a '
                        'save_tunable_only one on top of the pretrained backbone)')
    parser.add_argument('--eval', nargs='+', choices=EVAL_METRICS,
                        help='metrics to compute, e.g. top_k_accuracy mean_class_accuracy')
    parser.add_argument('--out', help='write per-video scores (.pkl or .json), one entry per '
                        'annotation line, as mmaction2 0.x did')
    parser.add_argument('--dump', help='write per-video records (filename, label, scores, '
                        'prediction) to .pkl or .json')
    parser.add_argument('--average-clips', choices=('prob', 'score', 'none'),
                        help='how the scores of a video\'s views are combined '
                        '(model.test_cfg.average_clips)')
    parser.add_argument('--amp', choices=AMP_CHOICES, default=None,
                        help="precision of the model on CUDA: fp16 or bf16 autocast, or none "
                        "(float32); default: the config's training precision")
    parser.add_argument('--work-dir', help='where the test log goes')
    parser.add_argument('--gpu-collect', action='store_true',
                        help='gather results across GPUs through GPU memory')
    parser.add_argument('--tmpdir', help=argparse.SUPPRESS)  # accepted; gathering needs none
    parser.add_argument('--fuse-conv-bn', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--compile', action='store_true',
                        help='run the backbone through torch.compile (same as --cfg-options '
                        'compile=True); the first iterations are slow while it compiles')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys (keys must exist in the config)')
    parser.add_argument('--options', nargs='+', action=DictAction, default={},
                        help=argparse.SUPPRESS)
    add_launcher_arguments(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if not (args.eval or args.out or args.dump):
        parser.error('nothing to do: give --eval METRIC ... and/or --out FILE / --dump FILE')
    args.cfg_options = {**args.options, **args.cfg_options}
    export_local_rank(args.local_rank, args.launcher)
    return args


def build_config(args) -> Config:
    cfg = load_config(args.config)
    apply_cfg_options(cfg, args.cfg_options)
    cfg = translate_config(cfg)
    if not cfg.get('test_dataloader'):
        raise ConfigError(f'{args.config} has no test set (data.test).')
    precision = args.amp or requested_precision(cfg.get('optim_wrapper') or {})
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                'val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg[key] = None
    if args.average_clips:
        cfg.model.setdefault('test_cfg', {})['average_clips'] = \
            None if args.average_clips == 'none' else args.average_clips
    evaluators = []
    if args.eval:
        metric = dict(cfg.get('test_evaluator') or {'type': 'AccMetric'})
        if isinstance(cfg.get('test_evaluator'), list):
            metric = dict(cfg.test_evaluator[0])
        metric['metric_list'] = tuple(args.eval)
        evaluators.append(metric)
    if args.out:
        evaluators.append(dict(type='DumpResults', out_file=args.out, item_format='scores'))
    if args.dump:
        evaluators.append(dict(type='DumpResults', out_file=args.dump, item_format='samples'))
    if args.gpu_collect:
        for metric in evaluators:
            metric['collect_device'] = 'gpu'
    cfg.test_evaluator = evaluators
    cfg.load_from, cfg.resume = args.checkpoint, False
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or default_work_dir(args.config)
    cfg.launcher = args.launcher
    if args.compile:
        cfg.compile = True
    return adapt_to_device(cfg, distributed=args.launcher != 'none', eval_precision=precision)


def main(argv=None):
    args = parse_args(argv)
    init_distributed(args.launcher, load_config(args.config))
    early = EarlyLogs()
    try:
        cfg = build_config(args)
        check_input_files(cfg, is_legacy_dialect(load_config(args.config)),
                          'CHECKPOINT (the second argument of tools/test.py)')
        runner = build_runner(cfg)
    except BaseException:
        early.replay(None)
        raise
    early.replay(runner.logger)
    if args.fuse_conv_bn:
        runner.logger.info('--fuse-conv-bn: the transformer backbones have no Conv+BN pairs; '
                           'nothing to fuse.')
    return runner.test()


if __name__ == '__main__':
    sys.exit(run_tool(main))
