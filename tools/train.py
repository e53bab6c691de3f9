"""Train a recognizer: AIM's ``tools/train.py`` command line on mmengine's Runner.

    python tools/train.py CONFIG [--validate] [--test-last] [--test-best]
        [--work-dir DIR] [--resume | --resume-from CKPT] [--seed N] [--deterministic]
        [--amp {fp16,bf16,none}] [--compile] [--cfg-options KEY=VALUE ...]
        [--launcher none|pytorch|slurm|mpi] [--debug]

A config error or a missing file ends the tool with one message and exit status 2; --debug
(or AIM_DEBUG=1) shows the traceback instead.

Several GPUs: ``bash tools/dist_train.sh CONFIG GPUS [the options above]``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

from mmaction.checkpoint import find_latest_checkpoint  # noqa: E402
from mmaction.engine import (adapt_to_device, apply_cfg_options,  # noqa: E402
                             translate_config)
from mmaction.engine.config_checks import (ConfigError, check_input_files,  # noqa: E402
                                           load_config, reject_legacy_arguments)
from mmaction.engine.config_dialect import is_legacy_dialect  # noqa: E402
from mmaction.engine.launch import (EarlyLogs, add_debug_argument,  # noqa: E402
                                    add_launcher_arguments, build_runner, default_work_dir,
                                    export_local_rank, init_distributed, run_tool)
from mmaction.engine.optim import AMP_CHOICES  # noqa: E402
from mmaction.utils.randomness import use_deterministic_cublas  # noqa: E402


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else argv
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
    parser.add_argument('--compile', action='store_true',
                        help='run the backbone through torch.compile (same as --cfg-options '
                        'compile=True); the first iterations are slow while it compiles')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. data.videos_per_gpu=8 '
                        'model.backbone.num_frames=16 (keys must exist in the config)')
    parser.add_argument('--options', nargs='+', action=DictAction, default={},
                        help=argparse.SUPPRESS)  # mmaction2 0.x's deprecated spelling
    parser.add_argument('--gpus', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--gpu-ids', type=int, nargs='+', help=argparse.SUPPRESS)
    add_launcher_arguments(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.gpus is not None or args.gpu_ids is not None:
        parser.error('--gpus/--gpu-ids (single-process multi-GPU) are not supported: use '
                     'bash tools/dist_train.sh CONFIG GPUS ..., or CUDA_VISIBLE_DEVICES=N to '
                     'pick the GPU of a single-process run.')
    if args.test_best and not args.validate:
        parser.error('--test-best tests the best validation checkpoint, so it needs '
                     '--validate.')
    args.cfg_options = {**args.options, **args.cfg_options}
    export_local_rank(args.local_rank, args.launcher)
    return args


def build_config(args) -> Config:
    """The Runner config of this command line (checks, dialect translation, flags)."""
    cfg = load_config(args.config)
    apply_cfg_options(cfg, args.cfg_options)
    cfg = translate_config(cfg)
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
        latest = find_latest_checkpoint(cfg.work_dir) if osp.isdir(cfg.work_dir) else None
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


def main(argv=None):
    args = parse_args(argv)
    if args.deterministic:
        use_deterministic_cublas()  # before CUDA starts: cuBLAS reads it once per device
    init_distributed(args.launcher, load_config(args.config))
    early = EarlyLogs()
    try:
        cfg = build_config(args)
        check_input_files(cfg, is_legacy_dialect(load_config(args.config)),
                          '--resume-from' if args.resume_from else None)
        runner = build_runner(cfg)
    except BaseException:
        early.replay(None)
        raise
    early.replay(runner.logger)
    runner.train()
    if args.test_last:
        runner.logger.info('--test-last: testing the final weights')
        runner.test_checkpoint(None)
    if args.test_best:
        best = runner.message_hub.get_info('best_ckpt')
        if best:
            runner.logger.info(f'--test-best: testing {best}')
            runner.test_checkpoint(best)
        else:
            runner.logger.warning('--test-best: no best checkpoint was saved (did validation '
                                  'run?); skipped.')


if __name__ == '__main__':
    sys.exit(run_tool(main))
