"""Write the annotation lists the configs read, from a dataset's official annotation files
and the videos (or extracted frame folders) actually on disk.

    python tools/data/build_file_list.py sthv2 data/sthv2/videos --format videos --subset train

writes ``data/sthv2/sthv2_train_list_videos.txt`` with lines ``ID.webm LABEL`` (videos) or
``ID NUM_FRAMES LABEL`` (rawframes), paths relative to SRC_FOLDER (the config's
``data_prefix``); ``--out FILE`` writes another name (the per-dataset scripts under
``tools/data/*/`` give the names the shipped configs read: docs/data.md). Annotated videos
that are not on disk are left out and counted; the count and the first names are printed, so
a half-finished download does not go unnoticed.

    python tools/data/build_file_list.py custom SRC --format videos --out-dir OUT ...

lists your own dataset instead (class sub-folders or a CSV): ``tools/data/custom_file_list.py``.
"""
import argparse
import json
import os
import os.path as osp
import random
import sys
from typing import Dict, List, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from custom_file_list import is_video, stratified_pick  # noqa: E402
from parse_file_list import PARSERS  # noqa: E402

from mmaction.utils.cli import add_debug_argument, run_tool  # noqa: E402
from mmaction.utils.fileio import write_text_atomic  # noqa: E402

#: datasets whose official splits are numbered (1-3)
NUMBERED_SPLITS = ('ucf101', 'hmdb51')


def detect_level(src: str, fmt: str) -> int:
    """2 when the samples sit in class folders (SRC/CLASS/ID.ext or SRC/CLASS/ID/img_*),
    1 when directly in SRC."""
    if not osp.isdir(src):
        return 1
    dirs = [e for e in os.scandir(src) if e.is_dir()]
    if fmt == 'videos':
        return 2 if dirs and not any(e.is_file() and is_video(e.name) for e in os.scandir(src)) \
            else 1
    return 2 if any(sub.is_dir() for d in dirs[:20] for sub in os.scandir(d.path)) else 1


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
    if argv is not None and list(argv[:1]) == ['custom']:  # your own dataset's arguments
        from custom_file_list import parse_args as custom_args
        return custom_args([a for a in argv[1:] if a != '--debug'])
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('dataset', choices=sorted(PARSERS))
    parser.add_argument('src_folder', help='folder of the videos / frame folders (may hold '
                        '{subset}, e.g. data/kinetics400/{subset}_256)')
    parser.add_argument('--ann-dir', help='official annotation files '
                        '(default: data/DATASET/annotations)')
    parser.add_argument('--subset', nargs='+', default=['train'],
                        choices=['train', 'val', 'test'],
                        help='one or more; {subset} in SRC_FOLDER and --out stands for each')
    parser.add_argument('--format', default='videos', choices=['videos', 'rawframes'])
    parser.add_argument('--level', default='auto', choices=['auto', '1', '2'],
                        help='1: SRC/ID.ext; 2: SRC/CLASS/ID.ext (Kinetics by class, UCF101, '
                        'HMDB51); auto (default): 2 when SRC holds class folders')
    parser.add_argument('--split', type=int, default=1, choices=[1, 2, 3],
                        help='official split number (UCF101, HMDB51)')
    parser.add_argument('--rgb-prefix', default='img_', help='frame file prefix (rawframes)')
    parser.add_argument('--out-root-path', default='data/',
                        help='lists go to OUT_ROOT/DATASET/DATASET_SUBSET_list_FORMAT.txt '
                        '(UCF101, HMDB51: DATASET_SUBSET_split_N_FORMAT.txt)')
    parser.add_argument('--out', help='write the list to this file instead (may hold '
                        '{subset})')
    parser.add_argument('--fraction', type=float,
                        help='keep only this fraction of each class (class-stratified, drawn '
                        'with --seed), e.g. 0.1')
    parser.add_argument('--output-format', default='txt', choices=['txt', 'json'])
    parser.add_argument('--shuffle', action='store_true', help='shuffle the lines')
    parser.add_argument('--seed', type=int, default=0, help='seed of --shuffle and --fraction')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if len(args.subset) > 1 and args.out and '{subset}' not in args.out:
        parser.error(f'--out {args.out} would hold every subset of --subset '
                     f'{" ".join(args.subset)}: put {{subset}} in it')
    if args.fraction is not None and not 0 < args.fraction <= 1:
        parser.error(f'--fraction must be in (0, 1], got {args.fraction}')
    return args


def default_output(args, subset: str) -> str:
    if args.dataset in NUMBERED_SPLITS:
        name = f'{args.dataset}_{subset}_split_{args.split}_{args.format}'
    else:
        name = f'{args.dataset}_{subset}_list_{args.format}'
    return osp.join(args.out_root_path, args.dataset, f'{name}.{args.output_format}')


def official_splits(args, ann_dir: str, level: int) -> dict:
    parser_fn = PARSERS[args.dataset]
    if args.dataset.startswith('kinetics'):
        return parser_fn(ann_dir, level)
    if args.dataset in NUMBERED_SPLITS:
        return parser_fn(ann_dir, args.split)
    return parser_fn(ann_dir)


def write_subset(args, subset: str, ann_dir: str) -> None:
    """The list of ``subset``: SRC_FOLDER and --out with ``{subset}`` filled in."""
    src = args.src_folder.format(subset=subset)
    if not osp.isdir(src):
        raise FileNotFoundError(f'{src} is not a folder: give the folder of the {args.dataset} '
                                f'{args.format} (the config\'s data_prefix)')
    level = detect_level(src, args.format) if args.level == 'auto' else int(args.level)
    splits = official_splits(args, ann_dir, level)
    if subset not in splits:
        raise FileNotFoundError(f'{args.dataset} has no {subset!r} split in {ann_dir} (found: '
                                f'{sorted(splits)})')
    if args.format == 'videos':
        found = scan_videos(src, level)
    else:
        found = scan_frame_dirs(src, level, args.rgb_prefix)
    records, missing = build_list(splits[subset], found, args.format)
    if args.fraction is not None:
        key = 'filename' if args.format == 'videos' else 'frame_dir'
        kept = stratified_pick([(r[key], r['label']) for r in records], args.fraction,
                               args.seed, keep_one=False)
        records = [r for r in records if r[key] in kept]
    if args.shuffle:
        random.Random(args.seed).shuffle(records)
    out = args.out.format(subset=subset) if args.out else default_output(args, subset)
    write_text_atomic(out, format_records(records, args.format, args.output_format))
    share = f' (a {args.fraction} share of each class)' if args.fraction is not None else ''
    print(f'{out}: {len(records)}{share} of {len(splits[subset])} annotated {subset} '
          f'samples, found under {src} (level {level})')
    if missing:
        print(f'{len(missing)} annotated samples are not on disk and were left out; first: '
              f'{missing[:5]}', file=sys.stderr)
    empty = [r['frame_dir'] for r in records if r.get('total_frames') == 0]
    if empty:
        print(f'{len(empty)} frame folders hold no {args.rgb_prefix}* files; first: '
              f'{empty[:5]}', file=sys.stderr)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['custom']:
        from custom_file_list import main as custom_main
        return custom_main([a for a in argv[1:] if a != '--debug'])
    args = parse_args(argv)
    ann_dir = args.ann_dir or osp.join('data', args.dataset, 'annotations')
    for subset in args.subset:
        write_subset(args, subset, ann_dir)
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
