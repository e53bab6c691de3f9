"""Describe the data an annotation list points to, so a number can say which data it came from.

    python tools/data/dataset_card.py data/kinetics400/kinetics400_val_list_videos.txt \\
        --data-prefix data/kinetics400/val --nproc 8 [--out k400_val_card.json]

Writes (atomically) ``card.json`` and ``card.md`` beside it (default: ``LIST_card.json``):

- the list's path and sha256 (compare it with the ``data_sha256`` of a test report);
- the videos listed, found (the file exists) and readable (they open and their first, middle
  and last frame decode, as ``tools/analysis/check_videos.py`` checks them with PyAV);
- per class: videos listed and readable;
- histograms over the readable videos: resolution (``WxH``), fps, duration (seconds, in bins
  of ``--duration-bin``) and codec; for frame folders (``--format rawframes``): resolution of
  the first frame and the number of frames (in bins of ``--frames-bin``);
- every missing and every unreadable file (with the reason) in the JSON; the Markdown lists
  the first ``--md-limit`` of each and says how many more there are.
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List, Optional, Tuple

# tools is not a package: check_videos is imported from its folder
sys.path.append(osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'analysis'))
from check_videos import check_frames, check_video  # noqa: E402


def probe_video(path: str) -> dict:
    """Resolution, frame rate, duration (s) and codec of the first video stream of ``path``
    (from the container's headers; nothing is decoded)."""
    import av
    with av.open(path) as container:
        stream = container.streams.video[0]
        if stream.duration is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = None
        rate = stream.average_rate or stream.guessed_rate
        return dict(width=stream.codec_context.width, height=stream.codec_context.height,
                    fps=float(rate) if rate else None, duration=duration,
                    codec=stream.codec_context.name)


def probe_frames(record: dict, template: str, start_index: int) -> dict:
    """Resolution of the first frame of a frame folder and its number of frames."""
    import cv2
    first = osp.join(record['frame_dir'], template.format(start_index + record.get('offset', 0)))
    img = cv2.imread(first)
    height, width = img.shape[:2] if img is not None else (None, None)
    return dict(width=width, height=height, frames=record['total_frames'])


def describe_one(task: Tuple[dict, str, str, int]) -> dict:
    """``{'status': 'missing'|'unreadable'|'readable', 'error', ...probe}`` of one record."""
    record, fmt, template, start_index = task
    path = record['filename'] if fmt == 'videos' else record['frame_dir']
    if not osp.exists(path):
        return dict(status='missing')
    if fmt == 'videos':
        reason, _ = check_video((record, 'pyav', False))
    else:
        reason = check_frames((record, template, False, start_index))
    if reason is not None:
        return dict(status='unreadable', error=reason)
    try:
        info = probe_video(path) if fmt == 'videos' else probe_frames(record, template,
                                                                       start_index)
    except Exception as err:  # it decoded, but its headers say nothing usable
        return dict(status='unreadable', error=f'{type(err).__name__}: {err}')
    return dict(status='readable', **info)


def _number(value: float) -> str:
    """25.0 -> '25', 29.97002997 -> '29.97'."""
    return f'{value:.2f}'.rstrip('0').rstrip('.')


def _bin(value: Optional[float], width: float) -> str:
    if value is None:
        return 'unknown'
    low = (value // width) * width
    return f'[{_number(low)}, {_number(low + width)})'


def _histogram(values: List[str], numeric_order: bool = False) -> Dict[str, int]:
    counts = Counter(values)

    def key(name):
        if numeric_order:
            head = name.strip('[').split(',')[0].split('x')[0]
            try:
                return (0, float(head), name)
            except ValueError:
                return (1, 0.0, name)
        return (-counts[name], 0.0, name)
    return {name: counts[name] for name in sorted(counts, key=key)}


def build_card(records: List[dict], results: List[dict], data_list: dict, args,
               class_names: Optional[List[str]]) -> dict:
    """The card as a JSON-able dict."""
    key = 'filename' if args.format == 'videos' else 'frame_dir'
    readable = [r for r in results if r['status'] == 'readable']
    classes: Dict[int, Dict[str, int]] = {}
    for record, result in zip(records, results):
        labels = record['label'] if isinstance(record['label'], list) else [record['label']]
        for label in labels:
            entry = classes.setdefault(int(label), dict(listed=0, readable=0))
            entry['listed'] += 1
            entry['readable'] += result['status'] == 'readable'
    per_class = {}
    for label in sorted(classes):
        name = class_names[label] if class_names and label < len(class_names) else None
        per_class[str(label)] = dict(name=name, **classes[label]) if name else classes[label]
    histograms = {'resolution': _histogram(
        [f"{r['width']}x{r['height']}" if r['width'] else 'unknown' for r in readable],
        numeric_order=True)}
    if args.format == 'videos':
        histograms['fps'] = _histogram(
            [_number(r['fps']) if r['fps'] else 'unknown' for r in readable], numeric_order=True)
        histograms['duration_s'] = _histogram(
            [_bin(r['duration'], args.duration_bin) for r in readable], numeric_order=True)
        histograms['codec'] = _histogram([r['codec'] for r in readable])
    else:
        histograms['frames'] = _histogram(
            [_bin(r['frames'], args.frames_bin) for r in readable], numeric_order=True)
    return dict(
        list=dict(path=data_list['ann_file'], sha256=data_list['sha256'], format=args.format,
                  data_prefix=args.data_prefix),
        videos=dict(listed=len(records),
                    found=sum(r['status'] != 'missing' for r in results),
                    readable=len(readable)),
        classes=per_class,
        histograms=histograms,
        missing=[rec[key] for rec, r in zip(records, results) if r['status'] == 'missing'],
        unreadable=[dict(path=rec[key], error=r['error'])
                    for rec, r in zip(records, results) if r['status'] == 'unreadable'])


def _capped(items: List[str], limit: int) -> List[str]:
    lines = [f'- {item}' for item in items[:limit]]
    if len(items) > limit:
        lines.append(f'- ... and {len(items) - limit} more (all of them are in the JSON card)')
    return lines


def markdown(card: dict, limit: int) -> str:
    """The card as Markdown, with the file listings capped at ``limit`` entries each."""
    videos = card['videos']
    out = [f"# Dataset card: `{card['list']['path']}`", '',
           f"- sha256: `{card['list']['sha256']}`",
           f"- format: {card['list']['format']}, data prefix: `{card['list']['data_prefix']}`",
           '', '| listed | found | readable | missing | unreadable |', '|---|---|---|---|---|',
           f"| {videos['listed']} | {videos['found']} | {videos['readable']} | "
           f"{len(card['missing'])} | {len(card['unreadable'])} |", '', '## Classes', '',
           '| class | name | listed | readable |', '|---|---|---|---|']
    for label, entry in card['classes'].items():
        out.append(f"| {label} | {entry.get('name') or ''} | {entry['listed']} | "
                   f"{entry['readable']} |")
    for name, hist in card['histograms'].items():
        out += ['', f'## {name} (readable videos)', '', f'| {name} | videos |', '|---|---|']
        out += [f'| {value} | {count} |' for value, count in hist.items()]
    out += ['', f"## Missing ({len(card['missing'])})", '']
    out += _capped([f'`{path}`' for path in card['missing']], limit) or ['none']
    out += ['', f"## Unreadable ({len(card['unreadable'])})", '']
    out += _capped([f"`{u['path']}`: {u['error']}" for u in card['unreadable']],
                   limit) or ['none']
    return '\n'.join(out) + '\n'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('ann_file', help='the annotation list (as the config\'s ann_file)')
    parser.add_argument('--data-prefix', default='', help="the config's data_prefix")
    parser.add_argument('--format', default='videos', choices=['videos', 'rawframes'])
    parser.add_argument('--out', help='the JSON card (default: LIST_card.json); the Markdown '
                        'card goes beside it with the suffix .md')
    parser.add_argument('--label-map', help='class names, one per line (line i names class i)')
    parser.add_argument('--nproc', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--duration-bin', type=float, default=1.0,
                        help='width of the duration bins, in seconds')
    parser.add_argument('--frames-bin', type=int, default=10,
                        help='rawframes: width of the frame-count bins')
    parser.add_argument('--md-limit', type=int, default=50,
                        help='the Markdown lists at most this many missing / unreadable files')
    parser.add_argument('--filename-tmpl', default='img_{:05}.jpg', help='rawframes')
    parser.add_argument('--with-offset', action='store_true', help='rawframes lists')
    parser.add_argument('--start-index', type=int, default=None,
                        help='index of the first frame (default 0 for videos, 1 for frames)')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error (also: AIM_DEBUG=1)')
    args = parser.parse_args(argv)
    if args.duration_bin <= 0 or args.frames_bin <= 0:
        parser.error('--duration-bin and --frames-bin must be positive')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.utils import track_parallel_progress, track_progress

    from mmaction.datasets import RawframeDataset, VideoDataset
    from mmaction.structures import DATA_LIST_KEY
    from mmaction.utils import write_text_atomic

    # the dataset classes parse the list as training and testing will (errors name file:line)
    # and record its sha256 (the same value a test report carries)
    common = dict(data_prefix=args.data_prefix, label_file=args.label_map, serialize_data=False)
    if args.format == 'videos':
        dataset = VideoDataset(args.ann_file, [], start_index=args.start_index or 0, **common)
    else:
        dataset = RawframeDataset(args.ann_file, [], filename_tmpl=args.filename_tmpl,
                                  with_offset=args.with_offset,
                                  start_index=1 if args.start_index is None else
                                  args.start_index, **common)
    records = [dataset.get_data_info(i) for i in range(len(dataset))]
    tasks = [(r, args.format, args.filename_tmpl, dataset.start_index) for r in records]
    if args.nproc > 1:
        results = track_parallel_progress(describe_one, tasks, nproc=args.nproc)
    else:
        results = track_progress(describe_one, tasks)
    names = dataset.metainfo.get('classes')
    card = build_card(records, results, dataset.metainfo[DATA_LIST_KEY], args,
                      list(names) if names else None)
    out_json = args.out or f'{osp.splitext(args.ann_file)[0]}_card.json'
    out_md = f'{osp.splitext(out_json)[0]}.md'
    write_text_atomic(out_json, json.dumps(card, indent=1) + '\n')
    write_text_atomic(out_md, markdown(card, args.md_limit))
    videos = card['videos']
    print(f"\n{args.ann_file} (sha256 {card['list']['sha256']}): {videos['listed']} listed, "
          f"{videos['found']} found, {videos['readable']} readable -> {out_json}, {out_md}")
    return 0


if __name__ == '__main__':
    from mmaction.engine.launch import run_tool
    sys.exit(run_tool(main))
