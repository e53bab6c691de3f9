"""Write a training checkpoint's weights for release, named with their sha256.

    python tools/publish_checkpoint.py work_dirs/k400/epoch_30.pth aim_vitb16_k400.pth

writes ``aim_vitb16_k400-1a2b3c4d.pth`` (the first 8 hex digits of the file's sha256, as
mmaction2's model zoo names its files) holding the checkpoint's ``state_dict`` and ``meta``,
without the optimizer and scheduler state: the file tools/test.py, load_from and
init_recognizer read, but not one to resume from. A ``save_tunable_only`` checkpoint gives
the small file (the trainable parameters only, loaded on top of the pretrained backbone).
"""
import argparse
import os
import sys

from mmaction.checkpoint import publish_checkpoint
from mmaction.engine.launch import run_tool


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('in_file', help='a checkpoint written by tools/train.py')
    parser.add_argument('out_file', help='the released name, e.g. aim_vitb16_k400.pth; '
                        '-SHA256[:8] is added before .pth')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error (also: AIM_DEBUG=1)')
    args = parser.parse_args(argv)
    path, sha256 = publish_checkpoint(args.in_file, args.out_file)
    print(f'{path}\n  sha256 {sha256}\n  {os.path.getsize(path) / 2**20:.1f} MiB (from '
          f'{os.path.getsize(args.in_file) / 2**20:.1f} MiB: optimizer and run state left out)')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
