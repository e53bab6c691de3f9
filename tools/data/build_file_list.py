"""Write the annotation lists the configs read, from a dataset's official annotation files
and the videos (or extracted frame folders) actually on disk.

    python tools/data/build_file_list.py sthv2 data/sthv2/videos --level 1 --format videos \\
        --subset train

writes ``data/sthv2/sthv2_train_list_videos.txt`` with lines ``ID.webm LABEL`` (videos) or
``ID NUM_FRAMES LABEL`` (rawframes), paths relative to SRC_FOLDER (the config's
``data_prefix``). Annotated videos that are not on disk are left out and counted; the
count and the first names are printed, so a half-finished download does not go unnoticed.
"""
import argparse
import json
import os
import os.path as osp
import random
import sys
from typing import Dict, List, Tuple

from parse_file_list import PARSERS

from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.utils.fileio import write_text_atomic


def scan_videos(src: str, level: int) -> Dict[str, str]:
    """{id (relative path without extension): relative path} of the files at depth ``level``."""
    found = {}
    for root, dirs, files in os.walk(src):
        depth = osp.relpath(root, src).count(os.sep) + 1 if root != src else 0
        if depth == level - 1:
            for name in sorted(files):
                rel = osp.relpath(osp.join(root, name), src)
                found.setdefault(osp.splitext(rel)[0], rel)
            dirs[:] = []
    return found


def scan_frame_dirs(src: str, level: int, rgb_prefix: str) -> Dict[str, Tuple[str, int]]:
    """{id: (relative dir, number of ``rgb_prefix*`` files)} of the folders at depth
    ``level``."""
    found = {}
    for root, dirs, _ in os.walk(src):
        depth = osp.relpath(root, src).count(os.sep) + 1 if root != src else 0
        if depth == level - 1:
            for name in sorted(dirs):
                rel = osp.relpath(osp.join(root, name), src)
                count = sum(1 for f in os.scandir(osp.join(root, name))
                            if f.is_file() and f.name.startswith(rgb_prefix))
                found[rel] = (rel, count)
            dirs[:] = []
    return found


def build_list(split: List[Tuple[str, int]], found: dict, fmt: str):
    """Records of the split's samples present on disk, and the ids that are not."""
    records, missing = [], []
    for video_id, label in split:
        hit = found.get(video_id)
        if hit is None:
            missing.append(video_id)
        elif fmt == 'videos':
            records.append(dict(filename=hit, label=label))
        else:
            records.append(dict(frame_dir=hit[0], total_frames=hit[1], label=label))
    return records, missing


def format_records(records: List[dict], fmt: str, output_format: str) -> str:
    if output_format == 'json':
        return json.dumps(records, indent=1)
    if fmt == 'videos':
        lines = [f"{r['filename']} {r['label']}" for r in records]
    else:
        lines = [f"{r['frame_dir']} {r['total_frames']} {r['label']}" for r in records]
    return ''.join(line + '\n' for line in lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('dataset', choices=sorted(PARSERS))
    parser.add_argument('src_folder', help='folder of the videos / frame folders')
    parser.add_argument('--ann-dir', help='official annotation files '
                        '(default: data/DATASET/annotations)')
    parser.add_argument('--subset', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--format', default='videos', choices=['videos', 'rawframes'])
    parser.add_argument('--level', type=int, default=1, choices=[1, 2],
                        help='1: SRC/ID.ext; 2: SRC/CLASS/ID.ext (Kinetics by class)')
    parser.add_argument('--rgb-prefix', default='img_', help='frame file prefix (rawframes)')
    parser.add_argument('--out-root-path', default='data/',
                        help='lists go to OUT_ROOT/DATASET/DATASET_SUBSET_list_FORMAT.txt')
    parser.add_argument('--output-format', default='txt', choices=['txt', 'json'])
    parser.add_argument('--shuffle', action='store_true', help='shuffle the lines')
    parser.add_argument('--seed', type=int, default=0, help='seed of --shuffle')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    ann_dir = args.ann_dir or osp.join('data', args.dataset, 'annotations')
    if not osp.isdir(args.src_folder):
        raise FileNotFoundError(f'SRC_FOLDER {args.src_folder}: no such folder (where the '
                                f'{args.format} of {args.dataset} are)')
    if not osp.isdir(ann_dir):
        raise FileNotFoundError(f'{ann_dir}: no such folder of the official annotation files '
                                f'of {args.dataset} (give it with --ann-dir)')
    parser_fn = PARSERS[args.dataset]
    splits = parser_fn(ann_dir, args.level) if args.dataset.startswith('kinetics') else \
        parser_fn(ann_dir)
    if args.subset not in splits:
        print(f'{args.dataset} has no {args.subset!r} split in {ann_dir} '
              f'(found: {sorted(splits)})', file=sys.stderr)
        return 1
    if args.format == 'videos':
        found = scan_videos(args.src_folder, args.level)
    else:
        found = scan_frame_dirs(args.src_folder, args.level, args.rgb_prefix)
    records, missing = build_list(splits[args.subset], found, args.format)
    if args.shuffle:
        random.Random(args.seed).shuffle(records)
    out = osp.join(args.out_root_path, args.dataset,
                   f'{args.dataset}_{args.subset}_list_{args.format}.{args.output_format}')
    write_text_atomic(out, format_records(records, args.format, args.output_format))
    print(f'{out}: {len(records)} of {len(splits[args.subset])} annotated {args.subset} '
          f'samples found under {args.src_folder}')
    if missing:
        print(f'{len(missing)} annotated samples are not on disk and were left out; first: '
              f'{missing[:5]}', file=sys.stderr)
    empty = [r['frame_dir'] for r in records if r.get('total_frames') == 0]
    if empty:
        print(f'{len(empty)} frame folders hold no {args.rgb_prefix}* files; first: '
              f'{empty[:5]}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
