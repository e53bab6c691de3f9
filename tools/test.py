"""Test a checkpoint: AIM's ``tools/test.py`` command line on mmengine's Runner.

    python tools/test.py CONFIG CHECKPOINT [--eval top_k_accuracy mean_class_accuracy]
        [--out results.pkl|results.json] [--dump samples.pkl] [--average-clips prob|score|none]
        [--amp {fp16,bf16,none}] [--compile] [--cfg-options KEY=VALUE ...]
        [--launcher none|pytorch|slurm|mpi] [--debug]

Several GPUs: ``bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [the options above]``. Under
DDP every video counts exactly once (the sampler's padding is dropped before evaluation).

The work is :func:`mmaction.engine.commands.test`; this file sets up the process for it.
"""
import sys

from mmaction.engine.commands import build_test_config as build_config  # noqa: E402,F401
from mmaction.engine.commands import parse_test_args, test
from mmaction.engine.config import read_config
from mmaction.engine.launch import export_local_rank, init_distributed, run_tool


def parse_args(argv=None):
    args = parse_test_args(sys.argv[1:] if argv is None else argv)
    export_local_rank(args.local_rank, args.launcher)
    return args


def main(argv=None):
    args = parse_args(argv)
    if not args.check_only:
        init_distributed(args.launcher, read_config(args.config))
    return test(args)


if __name__ == '__main__':
    sys.exit(run_tool(main))
