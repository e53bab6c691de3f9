"""Extract clip features: for every video of a list, the features a trained recognizer's
classifier receives, one ``.npy`` file per video (docs/features_export.md).

    python tools/misc/clip_feature_extraction.py CONFIG CHECKPOINT LIST --out DIR
        [--video-root ROOT] [--average-views] [--device cuda:0] [--cfg-options KEY=VALUE ...]
        [--launcher none|pytorch|slurm|mpi] [--debug]

Several GPUs: ``bash tools/misc/dist_clip_feature_extraction.sh CONFIG CHECKPOINT GPUS LIST
--out DIR``; each rank takes every GPUS-th video of the list. AIM's spelling works too:
``--video-list LIST``, and ``--out feats.pkl`` writes AIM's single pickle (a list of
view-averaged (C,) float32 arrays in list order; the per-video files are kept in
``feats_features/``). A run that stopped is continued by the same command: the videos that
have their file are skipped.
"""
import argparse
import os
import os.path as osp
import pickle
import sys

import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.logging import MMLogger

from mmaction.apis import extract_features, init_recognizer, read_video_list
from mmaction.apis.features import FeatureExtractionError
from mmaction.engine import load_config
from mmaction.engine.config import read_config
from mmaction.engine.launch import (
    add_debug_argument,
    add_launcher_arguments,
    export_local_rank,
    init_distributed,
    run_tool,
)
from mmaction.utils.fileio import write_bytes_atomic

PICKLE_SUFFIXES = ('.pkl', '.pickle')


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description='Write the pooled backbone features of every video of a list, one file '
        'per video.')
    parser.add_argument('config', help='config file (its test pipeline makes the views)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('video_list', nargs='?', metavar='LIST',
                        help='text file, one video path per line (relative to --video-root)')
    parser.add_argument('--video-list', dest='video_list_option', metavar='LIST',
                        help="LIST in AIM's spelling")
    parser.add_argument('--video-root', help='folder the paths of LIST are relative to')
    parser.add_argument('--out', required=True,
                        help='output folder (one .npy per video and manifest.json), or a .pkl '
                        "file for AIM's single list of view-averaged features")
    parser.add_argument('--average-views', action='store_true',
                        help='one (C,) vector per video, the mean over its views, instead of '
                        '(views, C)')
    parser.add_argument('--device', help='default: cuda (this rank\'s GPU) if available, '
                        'else cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. data.test_dataloader.'
                        'workers_per_gpu=4 (keys must exist in the config)')
    parser.add_argument('--fuse-conv-bn', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--gpu-collect', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--tmpdir', help=argparse.SUPPRESS)
    add_launcher_arguments(parser)
    add_debug_argument(parser)
    parser.add_argument('--check-only', action='store_true',
                        help='check the config, the list and the files, then exit '
                        '(dist_clip_feature_extraction.sh does this before the workers)')
    args = parser.parse_args(argv)
    if (args.video_list is None) == (args.video_list_option is None):
        parser.error('give the video list once: LIST (the third argument) or --video-list')
    args.video_list = args.video_list or args.video_list_option
    return args


def _output(args):
    """(folder of the per-video files, the AIM pickle or None, average over views)."""
    if args.out.endswith(PICKLE_SUFFIXES):
        return osp.splitext(args.out)[0] + '_features', args.out, True
    if osp.isfile(args.out):
        raise FeatureExtractionError(f'--out {args.out} is a file; give a folder (or a .pkl '
                                     "file name for AIM's single pickle)")
    return args.out, None, args.average_views


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    export_local_rank(args.local_rank, args.launcher)
    if not args.check_only:  # before anything logs, so that only rank 0 prints
        init_distributed(args.launcher, read_config(args.config))
    cfg = load_config(args.config, args.cfg_options)  # config and options first: exit 2
    entries = read_video_list(args.video_list, args.video_root)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist (the second '
                                'argument: a file written by tools/train.py or a released '
                                'AIM checkpoint)')
    out_dir, pickle_file, average = _output(args)
    if args.check_only:
        return 0
    logger = MMLogger.get_current_instance()
    for flag in ('fuse_conv_bn', 'gpu_collect', 'tmpdir'):
        if getattr(args, flag):
            logger.info(f'--{flag.replace("_", "-")}: not needed here (the transformer '
                        'backbones have no Conv+BN pairs; every rank writes its own files)')
    device = args.device or (f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}'
                             if torch.cuda.is_available() else 'cpu')
    model = init_recognizer(args.config, args.checkpoint, device=device,
                            cfg_options=args.cfg_options)
    settings = dict(config=args.config, checkpoint=args.checkpoint,
                    cfg_options=args.cfg_options, video_root=args.video_root)
    workers = (cfg.get('test_dataloader') or {}).get('num_workers', 0)
    summary = extract_features(model, entries, out_dir, average_views=average,
                               settings=settings, num_workers=workers)
    if summary['manifest'] is None:  # not rank 0
        return 1 if summary['failed'] else 0
    done = sum(v['shape'] is not None for v in summary['manifest']['videos'])
    print(f'{done} of {len(entries)} videos have features in {out_dir} (this run: '
          f'{summary["written"]} written, {summary["skipped"]} found; on rank 0); manifest: '
          f'{osp.join(out_dir, "manifest.json")}')
    if summary['failed']:
        for item in summary['failed']:
            print(f'  no features: {item["video"]}: {item["error"]}', file=sys.stderr)
        print(f'{len(summary["failed"])} videos could not be read; run the command again '
              'once they are fixed (the others are skipped)', file=sys.stderr)
        return 1
    if pickle_file:
        feats = [np.load(osp.join(out_dir, e.file)) for e in entries]
        write_bytes_atomic(pickle_file, pickle.dumps(feats))
        print(f'wrote {pickle_file}: {len(feats)} view-averaged feature vectors in list order')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
