"""Annotation lists of your own dataset: a folder of class sub-folders (or a CSV of
``path,label``) -> ``OUT/train_list.txt``, ``OUT/val_list.txt``, ``OUT/label_map.txt``.

    python tools/data/build_file_list.py custom SRC --format videos --out-dir OUT \\
        [--val-ratio 0.2 --seed 0] [--csv FILE]

Layouts of SRC (list paths are relative to SRC, the configs' ``data_prefix``):

- ``SRC/CLASS/.../VIDEO.mp4``: every video below a class folder; the split is drawn;
- ``SRC/train/CLASS/...`` and ``SRC/val/CLASS/...``: the split is these folders';
- ``--csv FILE``: rows ``path,label`` (paths relative to SRC, a ``path,label`` header line is
  allowed), the label a class name; the split is drawn.

With ``--format rawframes`` a sample is a folder of frames (``SRC/CLASS/VIDEO/img_00001.jpg``
...) and its list line is ``CLASS/VIDEO NUM_FRAMES LABEL`` (RawframeDataset's format).

The drawn split is stratified: each class gives ``floor(ratio * n + 0.5)`` of its ``n``
samples to val, but never all of them (a class of one sample stays in train). Which ones
depends only on the seed, the class name and the set of its sample paths, not on the order
in which the file system lists them. Class indices follow the sorted class names
(``label_map.txt`` line ``i`` names class ``i``). Files that are not videos (by extension) and
frame folders without frames are skipped, counted and reported.
"""
import csv
import os
import os.path as osp
import random
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Sequence, Tuple

from mmaction.utils.video_files import is_video

Sample = Tuple[str, str]  # (path relative to SRC, class name)


def count_frames(folder: str, rgb_prefix: str) -> int:
    return sum(1 for f in os.scandir(folder) if f.is_file() and f.name.startswith(rgb_prefix))


def stratified_pick(samples: Iterable[Tuple[str, object]], ratio: float, seed: int,
                    keep_one: bool = True) -> set:
    """The paths picked from ``(path, class)`` samples: ``floor(ratio * n + 0.5)`` of each
    class's ``n``, at most ``n - 1`` with ``keep_one``. Each class draws from
    ``random.Random(f'{seed}/{class}')`` over its sorted paths, so the pick depends on
    neither the order of ``samples`` nor the other classes."""
    if not 0 <= ratio <= 1:
        raise ValueError(f'the ratio must be in [0, 1], got {ratio}')
    by_class: Dict[object, List[str]] = defaultdict(list)
    for path, label in samples:
        by_class[label].append(path)
    picked = set()
    for label, paths in by_class.items():
        paths = sorted(paths)
        k = int(ratio * len(paths) + 0.5)
        if keep_one:
            k = min(k, len(paths) - 1)
        picked.update(random.Random(f'{seed}/{label}').sample(paths, k))
    return picked


class Scan:
    """Samples found under SRC and what was skipped, with reasons."""

    def __init__(self):
        self.samples: List[Sample] = []
        self.frames: Dict[str, int] = {}
        self.skipped: Counter = Counter()
        self.examples: Dict[str, List[str]] = defaultdict(list)

    def skip(self, reason: str, path: str):
        self.skipped[reason] += 1
        if len(self.examples[reason]) < 5:
            self.examples[reason].append(path)


def scan_classes(src: str, root: str, fmt: str, rgb_prefix: str, scan: Scan) -> None:
    """Add the samples of ``src/root/CLASS/...`` to ``scan`` (paths relative to ``src``)."""
    top = osp.join(src, root)
    for name in sorted(os.listdir(top)):
        class_dir = osp.join(top, name)
        if not osp.isdir(class_dir):
            scan.skip('files outside a class folder', osp.relpath(class_dir, src))
            continue
        if fmt == 'videos':
            for dirpath, dirs, files in os.walk(class_dir):
                dirs.sort()
                for file in sorted(files):
                    rel = osp.relpath(osp.join(dirpath, file), src)
                    if is_video(file):
                        scan.samples.append((rel, name))
                    else:
                        scan.skip('not videos (by extension)', rel)
            continue
        for entry in sorted(os.listdir(class_dir)):
            rel = osp.relpath(osp.join(class_dir, entry), src)
            if not osp.isdir(osp.join(class_dir, entry)):
                scan.skip('files outside a frame folder', rel)
                continue
            frames = count_frames(osp.join(class_dir, entry), rgb_prefix)
            if frames == 0:
                scan.skip(f'frame folders without {rgb_prefix}* files', rel)
                continue
            scan.samples.append((rel, name))
            scan.frames[rel] = frames


def read_csv(src: str, csv_file: str, fmt: str, rgb_prefix: str, scan: Scan) -> None:
    """Add the ``path,label`` rows of ``csv_file`` that exist under ``src`` to ``scan``."""
    with open(csv_file, newline='') as f:
        rows = list(csv.reader(f))
    for line, row in enumerate(rows, 1):
        if not row or not ''.join(row).strip():
            continue
        if len(row) != 2:
            raise ValueError(f'{csv_file}:{line}: expected "path,label", got {row}')
        path, label = row[0].strip(), row[1].strip()
        if line == 1 and (path.lower(), label.lower()) == ('path', 'label'):
            continue
        full = osp.join(src, path)
        if fmt == 'videos':
            if not is_video(path):
                scan.skip('not videos (by extension)', path)
            elif not osp.isfile(full):
                scan.skip('not found', path)
            else:
                scan.samples.append((path, label))
        elif not osp.isdir(full):
            scan.skip('not found', path)
        else:
            frames = count_frames(full, rgb_prefix)
            if frames == 0:
                scan.skip(f'frame folders without {rgb_prefix}* files', path)
            else:
                scan.samples.append((path, label))
                scan.frames[path] = frames


def class_order(names: Iterable[str]) -> List[str]:
    """Sorted class names; numerically when every name is an integer (so '10' follows '9')."""
    names = set(names)
    if names and all(n.isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)


def format_lines(samples: Sequence[Sample], index: Dict[str, int], frames: Dict[str, int],
                 fmt: str) -> str:
    if fmt == 'videos':
        return ''.join(f'{path} {index[name]}\n' for path, name in samples)
    return ''.join(f'{path} {frames[path]} {index[name]}\n' for path, name in samples)


def build_custom_lists(src: str, out_dir: str, fmt: str = 'videos', val_ratio: float = 0.2,
                       seed: int = 0, csv_file: str = None, rgb_prefix: str = 'img_') -> dict:
    """Write the three files; return what was done (paths, counts, skipped files)."""
    from mmaction.utils.fileio import write_text_atomic
    if not osp.isdir(src):
        raise FileNotFoundError(f'{src} is not a folder: give the folder that holds the class '
                                'folders (or the files the --csv rows name)')
    scan = Scan()
    split_folders = csv_file is None and all(osp.isdir(osp.join(src, s))
                                             for s in ('train', 'val'))
    if csv_file is not None:
        read_csv(src, csv_file, fmt, rgb_prefix, scan)
    elif split_folders:
        scan_classes(src, 'train', fmt, rgb_prefix, scan)
        scan_classes(src, 'val', fmt, rgb_prefix, scan)
    else:
        scan_classes(src, '', fmt, rgb_prefix, scan)
    if not scan.samples:
        raise FileNotFoundError(
            f'no {"videos" if fmt == "videos" else "frame folders"} found under {src} '
            f'(skipped: {dict(scan.skipped) or "nothing"}); expected SRC/CLASS/'
            f'{"VIDEO.mp4" if fmt == "videos" else "VIDEO/" + rgb_prefix + "00001.jpg"}')
    classes = class_order(name for _, name in scan.samples)
    index = {name: i for i, name in enumerate(classes)}
    ordered = sorted(scan.samples, key=lambda s: (index[s[1]], s[0]))
    if split_folders:
        val = [s for s in ordered if s[0].split(os.sep, 1)[0] == 'val']
        train = [s for s in ordered if s[0].split(os.sep, 1)[0] == 'train']
    else:
        picked = stratified_pick(ordered, val_ratio, seed)
        val = [s for s in ordered if s[0] in picked]
        train = [s for s in ordered if s[0] not in picked]
    paths = {name: osp.join(out_dir, f'{name}.txt')
             for name in ('train_list', 'val_list', 'label_map')}
    write_text_atomic(paths['train_list'], format_lines(train, index, scan.frames, fmt))
    write_text_atomic(paths['val_list'], format_lines(val, index, scan.frames, fmt))
    write_text_atomic(paths['label_map'], ''.join(f'{name}\n' for name in classes))
    return dict(paths=paths, classes=classes, train=train, val=val,
                split='folders' if split_folders else f'drawn (val ratio {val_ratio}, '
                f'seed {seed})', skipped=dict(scan.skipped), examples=dict(scan.examples),
                without_train=sorted({n for _, n in val} - {n for _, n in train}))


def parse_args(argv=None):
    import argparse
    parser = argparse.ArgumentParser(
        prog='build_file_list.py custom',
        description='Lists of your own dataset (class sub-folders or a CSV of path,label)')
    parser.add_argument('src', help='folder of class sub-folders (or of train/ and val/ '
                        'holding them); the list paths are relative to it')
    parser.add_argument('--format', default='videos', choices=['videos', 'rawframes'])
    parser.add_argument('--out-dir', required=True,
                        help='writes OUT/train_list.txt, OUT/val_list.txt, OUT/label_map.txt')
    parser.add_argument('--val-ratio', type=float, default=0.2,
                        help='fraction of each class drawn for val (not with train/ val/ '
                        'folders)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the drawn split')
    parser.add_argument('--csv', help='rows path,label instead of class folders')
    parser.add_argument('--rgb-prefix', default='img_', help='frame file prefix (rawframes)')
    args = parser.parse_args(argv)
    if not 0 <= args.val_ratio < 1:
        parser.error(f'--val-ratio must be in [0, 1), got {args.val_ratio}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    done = build_custom_lists(args.src, args.out_dir, args.format, args.val_ratio, args.seed,
                              args.csv, args.rgb_prefix)
    print(f"{len(done['classes'])} classes; split: {done['split']}")
    for name, rows in (('train_list', done['train']), ('val_list', done['val'])):
        print(f"{done['paths'][name]}: {len(rows)} samples")
    print(f"{done['paths']['label_map']}: {len(done['classes'])} class names")
    for reason, count in sorted(done['skipped'].items()):
        print(f"skipped {count} {reason}; first: {done['examples'][reason]}")
    if done['without_train']:
        print(f"classes with val samples but no training sample: {done['without_train']}")
    return 0
