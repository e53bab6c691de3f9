"""What ``tools/train.py`` and ``tools/test.py`` do, as library functions: the argument
parsers, the Runner config of a command line, and the run itself.

The tools are these functions behind a command line: they set up the process (rank
variables, cuBLAS workspace, process group) and call :func:`train` / :func:`test`. The
synthetic benchmark (:mod:`mmaction.synthetic.benchmark`) calls the same functions with the
same arguments in its own process.
"""
import argparse
import logging
import os.path as osp
from typing import Callable, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger

from mmaction.checkpoint import find_latest_checkpoint
from mmaction.evaluation.functional import METRIC_FUNCTIONS
from .config import (
    ConfigError,
    adapt_to_device,
    check_input_files,
    check_multi_label,
    check_trainable,
    is_legacy_dialect,
    load_config,
    read_config,
)
from .launch import (
    EarlyLogs,
    add_debug_argument,
    add_launcher_arguments,
    build_runner,
    default_work_dir,
)
from .optim import AMP_CHOICES, requested_precision

EVAL_METRICS = tuple(METRIC_FUNCTIONS)
UNSUPPORTED_TEST_FLAGS = ('--onnx', '--tensorrt')


def reject_legacy_arguments(argv: Sequence[str]) -> None:
    """The seed notes' ``--train_clip_len`` JSON workaround is not needed any more."""
    for arg in argv:
        if arg.split('=')[0] in ('--train_clip_len', '--train-clip-len'):
            raise SystemExit(
                '--train_clip_len is not needed: --cfg-options model.backbone.num_frames=N '
                'alone sets clip_len=N in every SampleFrames of the pipelines (and logs it). '
                'Remove --train_clip_len and its JSON value.')


def _add_common_arguments(parser: argparse.ArgumentParser, overrides_help: str) -> None:
    """What both tools take: ``--compile``, ``--cfg-options`` (and 0.x's ``--options``),
    ``--launcher``, ``--debug``."""
    parser.add_argument('--compile', action='store_true',
                        help='run the backbone through torch.compile (same as --cfg-options '
                        'compile=True); the first iterations are slow while it compiles')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help=overrides_help)
    parser.add_argument('--options', nargs='+', action=DictAction, default={},
                        help=argparse.SUPPRESS)  # mmaction2 0.x's deprecated spelling
    add_launcher_arguments(parser)
    add_debug_argument(parser)
    parser.add_argument('--check-only', action='store_true',
                        help='check the config, the --cfg-options and the files they name, '
                        'then exit (tools/dist_*.sh and slurm_*.sh do this once before they '
                        'start the workers)')


# ---------------------------------------------------------------------------- training
def parse_train_args(argv: Sequence[str],
                     extra: Optional[Callable[[argparse.ArgumentParser], None]] = None
                     ) -> argparse.Namespace:
    """The arguments of ``tools/train.py``; a bad combination is a usage error (``SystemExit``
    with argparse's message). ``extra(parser)`` adds the arguments of a tool that takes
    these and more (``tools/analysis/print_config.py``)."""
    reject_legacy_arguments(argv)
    parser = argparse.ArgumentParser(description='Train a video recognizer (AIM).')
    parser.add_argument('config', help='config file (AIM / mmaction2 0.x or mmengine dialect)')
    parser.add_argument('--work-dir', help='where checkpoints and logs go (default: the '
                        "config's work_dir, else ./work_dirs/<config name>)")
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument('--resume-from', help='checkpoint to resume training from')
    resume.add_argument('--resume', action='store_true',
                        help='resume from the latest checkpoint of the work dir, if any')
    parser.add_argument('--validate', action='store_true',
                        help='evaluate on data.val every evaluation.interval epochs and keep '
                        'the best top-1 checkpoint')
    parser.add_argument('--test-last', action='store_true',
                        help='test the final model on data.test after training')
    parser.add_argument('--test-best', action='store_true',
                        help='test the best validation checkpoint after training (needs '
                        '--validate)')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic cuDNN/CUDA algorithms and cuBLAS workspaces '
                        '(sets CUBLAS_WORKSPACE_CONFIG=:4096:8; slower)')
    parser.add_argument('--amp', choices=AMP_CHOICES, default=None,
                        help='mixed precision, overriding optimizer_config.use_fp16: fp16 '
                        '(CUDA, dynamic loss scaling), bf16 (CUDA or CPU) or none')
    parser.add_argument('--gpus', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--gpu-ids', type=int, nargs='+', help=argparse.SUPPRESS)
    _add_common_arguments(
        parser, 'override config keys, e.g. data.videos_per_gpu=8 '
        'model.backbone.num_frames=16 (keys must exist in the config)')
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    if args.gpus is not None or args.gpu_ids is not None:
        parser.error('--gpus/--gpu-ids (single-process multi-GPU) are not supported: use '
                     'bash tools/dist_train.sh CONFIG GPUS ..., or CUDA_VISIBLE_DEVICES=N to '
                     'pick the GPU of a single-process run.')
    if args.test_best and not args.validate:
        parser.error('--test-best tests the best validation checkpoint, so it needs '
                     '--validate.')
    args.cfg_options = {**args.options, **args.cfg_options}
    return args


def build_train_config(args: argparse.Namespace) -> Config:
    """The Runner config of a ``tools/train.py`` command line (checks, dialect translation,
    flags)."""
    cfg = load_config(args.config, args.cfg_options)
    check_trainable(cfg)
    logger = MMLogger.get_current_instance()
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or default_work_dir(args.config)
    cfg.launcher = args.launcher
    if not args.validate:
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
        cfg.default_hooks.checkpoint.pop('save_best', None)
        cfg.default_hooks.checkpoint.pop('rule', None)
    elif not cfg.get('val_dataloader'):
        raise ConfigError('--validate needs a validation set: data.val in the config.')
    if not (args.test_last or args.test_best):
        cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    elif not cfg.get('test_dataloader'):
        raise ConfigError('--test-last/--test-best need a test set: data.test in the config.')
    if args.resume_from:
        cfg.load_from, cfg.resume = args.resume_from, True
    elif args.resume:
        skipped = []
        latest = find_latest_checkpoint(cfg.work_dir, skipped) if osp.isdir(cfg.work_dir) \
            else None
        for path, problem in skipped:
            logger.warning(f'--resume: skipping {path}: {problem}')
        if latest:
            cfg.load_from, cfg.resume = latest, True
            logger.info(f'--resume: continuing from {latest}')
        else:
            logger.info(f'--resume: no checkpoint in {cfg.work_dir} yet; starting from the '
                        'beginning.')
    randomness = dict(cfg.get('randomness') or {})
    randomness.setdefault('seed', None)  # None: a random seed, recorded in the checkpoints
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.deterministic:
        randomness['deterministic'] = True
    cfg.randomness = randomness
    if args.compile:
        cfg.compile = True
    return adapt_to_device(cfg, amp=args.amp, distributed=args.launcher != 'none')


def _build_runner(args: argparse.Namespace, build_config, checkpoint_key):
    """The runner of ``args``, with what was logged while building it in its log file."""
    early = EarlyLogs()
    try:
        cfg = build_config(args)
        check_multi_label(cfg)
        check_input_files(cfg, is_legacy_dialect(read_config(args.config)), checkpoint_key)
        runner = build_runner(cfg)
    except BaseException:
        early.replay(None)
        raise
    early.replay(runner.logger)
    return runner


def check(args: argparse.Namespace, build_config, checkpoint_key=None) -> int:
    """What the tool with ``args`` checks before any work, without the work: the config,
    its ``--cfg-options`` and the input files it names (:func:`check_input_files`). Raises
    the error the tool's run would raise; returns 0. Only warnings are logged: the run
    itself logs the rest."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        cfg = build_config(args)
        check_multi_label(cfg)
        check_input_files(cfg, is_legacy_dialect(read_config(args.config)), checkpoint_key)
    finally:
        logger.setLevel(level)
    return 0


def _end_loader_workers(*loops) -> None:
    """End the persistent data-loader workers of ``loops`` (those that ran) now.

    A tool's process ends them as it exits. A caller that goes on in its process would leave
    them to the garbage collector, which closes their queues before the loader's finalizer
    can tell them to stop: each worker then sits out a 5 s timeout. The loaders stay usable
    (a later pass starts new workers).
    """
    for loop in loops:
        loader = getattr(loop, 'dataloader', None)
        iterator = getattr(loader, '_iterator', None)
        if iterator is not None:
            loader._iterator = None
            iterator._shutdown_workers()


def train(args: argparse.Namespace):
    """Train as ``tools/train.py`` with ``args`` (from :func:`parse_train_args`) does, in a
    process already set up for it; returns the runner (0 with ``--check-only``)."""
    key = '--resume-from' if args.resume_from else None
    if args.check_only:
        return check(args, build_train_config, key)
    runner = _build_runner(args, build_train_config, key)
    runner.train()
    tested = False
    if args.test_last:
        runner.logger.info('--test-last: testing the final weights')
        runner.test_checkpoint(None)
        tested = True
    if args.test_best:
        best = runner.message_hub.get_info('best_ckpt')
        if best:
            runner.logger.info(f'--test-best: testing {best}')
            runner.test_checkpoint(best)
            tested = True
        else:
            runner.logger.warning('--test-best: no best checkpoint was saved (did validation '
                                  'run?); skipped.')
    _end_loader_workers(runner.train_loop, runner.val_loop, runner.test_loop if tested else None)
    return runner


# ---------------------------------------------------------------------------- testing
def parse_test_args(argv: Sequence[str],
                    extra: Optional[Callable[[argparse.ArgumentParser], None]] = None
                    ) -> argparse.Namespace:
    """The arguments of ``tools/test.py``; a bad combination is a usage error. ``extra``: as
    for :func:`parse_train_args`."""
    for flag in UNSUPPORTED_TEST_FLAGS:
        if flag in argv:
            raise SystemExit(f'{flag} (model export) is not supported by this tool.')
    parser = argparse.ArgumentParser(description='Test a video recognizer (AIM).')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (ours, a released AIM one, or a '
                        'save_tunable_only one on top of the pretrained backbone)')
    parser.add_argument('--eval', nargs='+', choices=EVAL_METRICS,
                        help='metrics to compute, e.g. top_k_accuracy mean_class_accuracy '
                        '(multi-label data: mean_average_precision mmit_mean_average_precision)')
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
    _add_common_arguments(parser,
                               'override config keys (keys must exist in the config)')
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    if not (args.eval or args.out or args.dump):
        parser.error('nothing to do: give --eval METRIC ... and/or --out FILE / --dump FILE')
    args.cfg_options = {**args.options, **args.cfg_options}
    return args


def build_test_config(args: argparse.Namespace) -> Config:
    """The Runner config of a ``tools/test.py`` command line."""
    cfg = load_config(args.config, args.cfg_options)
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


def test(args: argparse.Namespace) -> dict:
    """Test as ``tools/test.py`` with ``args`` (from :func:`parse_test_args`) does, in a
    process already set up for it; returns the metrics (0 with ``--check-only``)."""
    key = 'CHECKPOINT (the second argument of tools/test.py)'
    if args.check_only:
        return check(args, build_test_config, key)
    runner = _build_runner(args, build_test_config, key)
    if args.fuse_conv_bn:
        runner.logger.info('--fuse-conv-bn: the transformer backbones have no Conv+BN pairs; '
                           'nothing to fuse.')
    metrics = runner.test()
    _end_loader_workers(runner.test_loop)
    return metrics
