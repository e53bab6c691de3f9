"""Find the videos of an annotation list that cannot be read; write a list without them.

    python tools/analysis/check_videos.py data/kinetics400/kinetics400_train_list_videos.txt \\
        --data-prefix data/kinetics400/train --nproc 8

Every video is opened and decoded with the decoder the configs use (``--decoder``): its
first, middle and last frame, or every frame with ``--full``. That catches missing, empty,
truncated and corrupt files, files without a video stream and streams without frames.
Frame folders (``--type rawframes``) are checked for every listed frame file, and decoded
the same way.

Writes (atomically):
    ANN.bad.txt      one line per unreadable video: ``path<TAB>reason``
    ANN_clean.txt    the annotation without them, other lines unchanged (``.json`` stays json)
    ANN.fallback.txt with ``--decoder decord``: one line per video that decord cannot decode
                     but PyAV can (``path<TAB>decord's error``). Training and testing decode
                     those with PyAV (same pixels), so they stay in ANN_clean.txt.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

import numpy as np

DECODERS = {
    'decord': ('DecordInit', 'DecordDecode'),
    'pyav': ('PyAVInit', 'PyAVDecode'),
    'opencv': ('OpenCVInit', 'OpenCVDecode'),
}
CHUNK = 64  # frames decoded per pass with --full

_steps = {}  # per worker process: the built transforms


def _transforms(decoder: str):
    if decoder not in _steps:
        from mmaction.registry import TRANSFORMS
        names = DECODERS[decoder] if decoder != 'rawframes' else (None, 'RawFrameDecode')
        _steps[decoder] = tuple(TRANSFORMS.build(dict(type=n)) if n else None for n in names)
    return _steps[decoder]


def _frame_plan(total: int, full: bool) -> List[np.ndarray]:
    if full:
        return [np.arange(s, min(s + CHUNK, total)) for s in range(0, total, CHUNK)]
    return [np.unique([0, total // 2, total - 1])]


def check_video(task: Tuple[dict, str, bool]) -> Tuple[Optional[str], Optional[str]]:
    """(None if the video decodes, else the reason it does not; decord's error if decord
    cannot decode it and PyAV decoded it instead, else None)."""
    record, decoder, full = task
    from mmaction.datasets.transforms import VideoDecodeError
    from mmaction.datasets.transforms.loading import FALLBACK_KEY
    init, decode = _transforms(decoder)
    fallback = None
    try:
        results = init(dict(filename=record['filename']))
        plan = _frame_plan(results['total_frames'], full)
        for i, inds in enumerate(plan):
            if i:  # every decode closes the file; reopen for the next chunk
                results = init(dict(filename=record['filename']))
            results['frame_inds'] = inds
            results = decode(results)
            fallback = fallback or (results.get(FALLBACK_KEY) or {}).get('error')
    except VideoDecodeError as err:
        return err.reason, None
    except Exception as err:  # a checker reports whatever goes wrong
        return f'{type(err).__name__}: {err}', None
    return None, fallback


def check_frames(task: Tuple[dict, str, bool, int]) -> Optional[str]:
    """None if every frame file exists and the sampled ones decode, else the reason."""
    record, template, full, start_index = task
    from mmaction.datasets.transforms import VideoDecodeError
    _, decode = _transforms('rawframes')
    total, offset = record['total_frames'], record.get('offset', 0)
    if total < 1:
        return f'total_frames is {total}'
    missing = [i for i in range(start_index, start_index + total)
               if not osp.isfile(osp.join(record['frame_dir'], template.format(i + offset)))]
    if missing:
        return f'{len(missing)} of {total} frame files missing (first: frame {missing[0]})'
    try:
        for inds in _frame_plan(total, full):
            decode(dict(frame_dir=record['frame_dir'], filename_tmpl=template, offset=offset,
                        frame_inds=inds + start_index))
    except VideoDecodeError as err:
        return err.reason
    except Exception as err:  # a checker reports whatever goes wrong
        return f'{type(err).__name__}: {err}'
    return None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('ann_file')
    parser.add_argument('--data-prefix', default='', help="the config's data_prefix")
    parser.add_argument('--type', default='videos', choices=['videos', 'rawframes'])
    parser.add_argument('--decoder', default='pyav', choices=sorted(DECODERS),
                        help="the configs' decoder: pyav in ours, decord in AIM's")
    parser.add_argument('--full', action='store_true', help='decode every frame')
    parser.add_argument('--nproc', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--filename-tmpl', default='img_{:05}.jpg', help='rawframes')
    parser.add_argument('--start-index', type=int, default=None,
                        help='index of the first frame (default 0 for videos, 1 for frames)')
    parser.add_argument('--with-offset', action='store_true', help='rawframes lists')
    parser.add_argument('--out-bad', help='default: ANN.bad.txt')
    parser.add_argument('--out-clean', help='default: ANN_clean.EXT')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error (also: AIM_DEBUG=1)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.utils import track_parallel_progress, track_progress

    from mmaction.datasets import RawframeDataset, VideoDataset
    from mmaction.utils import write_text_atomic

    # the dataset classes parse the list exactly as training will (errors name file:line)
    if args.type == 'videos':
        dataset = VideoDataset(args.ann_file, [], data_prefix=args.data_prefix,
                               start_index=args.start_index or 0, serialize_data=False)
    else:
        dataset = RawframeDataset(args.ann_file, [], data_prefix=args.data_prefix,
                                  filename_tmpl=args.filename_tmpl, with_offset=args.with_offset,
                                  start_index=1 if args.start_index is None else args.start_index,
                                  serialize_data=False)
    records = [dataset.get_data_info(i) for i in range(len(dataset))]
    if args.type == 'videos':
        func, tasks = check_video, [(r, args.decoder, args.full) for r in records]
    else:
        func = check_frames
        tasks = [(r, args.filename_tmpl, args.full, dataset.start_index) for r in records]
    if args.nproc > 1:
        reasons = track_parallel_progress(func, tasks, nproc=args.nproc)
    else:
        reasons = track_progress(func, tasks)
    fallbacks = [None] * len(reasons)
    if args.type == 'videos':
        fallbacks = [fallback for _, fallback in reasons]
        reasons = [reason for reason, _ in reasons]

    key = 'filename' if args.type == 'videos' else 'frame_dir'
    bad = [(r[key], reason) for r, reason in zip(records, reasons) if reason is not None]
    root, ext = osp.splitext(args.ann_file)
    out_bad = args.out_bad or f'{args.ann_file}.bad.txt'
    out_clean = args.out_clean or f'{root}_clean{ext}'
    write_text_atomic(out_bad, ''.join(f'{path}\t{reason}\n' for path, reason in bad))
    keep = [reason is None for reason in reasons]
    if ext == '.json':
        with open(args.ann_file) as f:
            items = json.load(f)
        write_text_atomic(out_clean, json.dumps([it for it, k in zip(items, keep) if k], indent=1))
    else:
        with open(args.ann_file) as f:
            lines = [line for line in f if line.strip()]  # the entries the dataset parsed
        write_text_atomic(out_clean, ''.join(line if line.endswith('\n') else line + '\n'
                                         for line, k in zip(lines, keep) if k))
    summary = (f'\n{len(records)} checked, {len(bad)} unreadable -> {out_bad}; '
               f'{len(records) - len(bad)} kept -> {out_clean}')
    if args.decoder == 'decord' and args.type == 'videos':
        only_pyav = [(r[key], f) for r, f in zip(records, fallbacks) if f is not None]
        out_fallback = f'{args.ann_file}.fallback.txt'
        write_text_atomic(out_fallback, ''.join(f'{p}\t{f}\n' for p, f in only_pyav))
        summary += (f'; {len(only_pyav)} of the kept ones decord cannot decode, PyAV can '
                    f'(decoded with PyAV in training and testing) -> {out_fallback}')
    print(summary)
    return 0


if __name__ == '__main__':
    from mmaction.engine.launch import run_tool
    sys.exit(run_tool(main))
