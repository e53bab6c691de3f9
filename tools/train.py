"""Train a recognizer: AIM's ``tools/train.py`` command line on mmengine's Runner.

    python tools/train.py CONFIG [--validate] [--test-last] [--test-best]
        [--work-dir DIR] [--resume | --resume-from CKPT] [--seed N] [--deterministic]
        [--amp {fp16,bf16,none}] [--compile] [--cfg-options KEY=VALUE ...]
        [--launcher none|pytorch|slurm|mpi] [--debug]

A config error or a missing file ends the tool with one message and exit status 2; --debug
(or AIM_DEBUG=1) shows the traceback instead.

Several GPUs: ``bash tools/dist_train.sh CONFIG GPUS [the options above]``.

The work is :func:`mmaction.engine.commands.train`; this file sets up the process for it.
"""
import sys

from mmaction.engine.commands import build_train_config as build_config  # noqa: E402,F401
from mmaction.engine.commands import parse_train_args, train
from mmaction.engine.config import read_config
from mmaction.engine.launch import export_local_rank, init_distributed, run_tool
from mmaction.utils.randomness import use_deterministic_cublas


def parse_args(argv=None):
    args = parse_train_args(sys.argv[1:] if argv is None else argv)
    export_local_rank(args.local_rank, args.launcher)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.deterministic:
        use_deterministic_cublas()  # before CUDA starts: cuBLAS reads it once per device
    if not args.check_only:
        init_distributed(args.launcher, read_config(args.config))
    train(args)


if __name__ == '__main__':
    sys.exit(run_tool(main))
