"""Recognise the actions along a video of any length: sliding windows, a timeline of the
top-k classes per window, an annotated copy of the video.

    python demo/long_video_demo.py VIDEO CONFIG CHECKPOINT LABEL_MAP --out OUT.mp4 \
        [--json timeline.json] [--plot timeline.png] [--window N] [--stride N] [--topk K] \
        [--threshold T] [--device cpu] [--cfg-options KEY=VALUE ...]

Each window of ``--window`` frames (default: the span of one view of the config's test
sampler) goes through the test pipeline as ``demo/demo.py`` would take those frames; windows
start every ``--stride`` frames (default half a window), and one more window ends at the last
frame if the stride leaves frames uncovered. Frames are decoded one at a time; only a window's
worth is kept. In the annotated video each frame shows the classes of the window centred
nearest to it.

AIM's argument order (CONFIG CHECKPOINT VIDEO LABEL_MAP OUT_FILE, where OUT_FILE is a video
or a ``.json``) is recognised too, and so is its ``--stride F`` as a fraction of the window
(``0.5``; ``0``: every frame).
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from mmaction.engine.launch import add_debug_argument, run_tool  # noqa: E402


def parse_args(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description='Recognise the actions along a long video')
    parser.add_argument('video', help='video file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('label_map', help='class names, one per line')
    parser.add_argument('out_file', nargs='?', help=argparse.SUPPRESS)  # AIM's positional
    parser.add_argument('--out', help='annotated video (.mp4, .mov, .mkv; h264)')
    parser.add_argument('--json', help='the timeline as JSON')
    parser.add_argument('--plot', help='the timeline as a picture (.png, .pdf, .svg; needs '
                        'matplotlib)')
    parser.add_argument('--window', type=int, help='frames per window (default: the span '
                        "of one view of the config's test sampler)")
    parser.add_argument('--stride', help='frames between window starts (default: half a '
                        "window); a fraction such as 0.5 is AIM's: that share of the window")
    parser.add_argument('--topk', type=int, default=5, help='classes kept per window')
    parser.add_argument('--threshold', type=float, default=0.01,
                        help='leave out classes scoring below this')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda', 'cuda:1' ...")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.backbone.pretrained=None')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.video.endswith('.py') and not args.config.endswith('.py'):
        # AIM's order: CONFIG CHECKPOINT VIDEO LABEL_MAP OUT_FILE
        args.video, args.config, args.checkpoint = args.checkpoint, args.video, args.config
        print("Reading the arguments in AIM's order: CONFIG CHECKPOINT VIDEO LABEL_MAP OUT_FILE")
    if args.out_file:
        which = 'json' if args.out_file.endswith('.json') else 'out'
        if getattr(args, which):
            parser.error(f'OUT_FILE {args.out_file} and --{which} both name the output')
        setattr(args, which, args.out_file)
    return args


def stride_frames(text, window: int) -> int:
    """``--stride``: frames (``8``), or AIM's share of the window (``0.5``; ``0``: 1 frame)."""
    from mmaction.apis.windows import WindowError
    if text is None:
        return max(1, window // 2)
    try:
        value = float(text) if '.' in text else int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise WindowError(f'--stride must be a number of frames (8) or a share of the window '
                          f'(0.5); got {text!r}')
    if isinstance(value, float) or value == 0:  # AIM's: stride * window, at least 1 frame
        return max(1, int(window * value))
    return value


def window_thumbnails(video: str, timeline) -> list:
    """The middle frame of each window of the timeline (decoded once more, one at a time)."""
    from mmaction.visualization.video import decode_frames
    middles = [(w['start_frame'] + w['end_frame'] - 1) // 2 for w in timeline['windows']]
    found = {}
    for index, frame in enumerate(decode_frames(video)):
        if index in middles:
            found[index] = frame
        if index >= middles[-1]:
            break
    return [found[i] for i in middles]


def main(argv=None):
    args = parse_args(argv)
    from mmaction.apis import LabelMapError, init_recognizer, read_label_names
    from mmaction.apis.windows import default_window, frame_windows, label_lines, video_timeline
    from mmaction.utils.fileio import write_text_atomic
    from mmaction.visualization.video import write_labelled_video
    if not osp.isfile(args.video):
        raise FileNotFoundError(f'video {args.video} does not exist')
    names = read_label_names(args.label_map)
    if not names:
        raise LabelMapError(f'label map {args.label_map} names no class (expected one class '
                            'name per line)')
    for option in ('out', 'json', 'plot'):  # refuse a bad name before the work, not after
        path = getattr(args, option)
        if path and osp.isdir(path):
            raise IsADirectoryError(f'--{option} {path} is a directory; give a file name')
    if args.out:
        from mmaction.engine import ConfigError
        from mmaction.visualization.video import VIDEO_FORMATS
        if osp.splitext(args.out)[1].lower() not in VIDEO_FORMATS:
            raise ConfigError(f'--out {args.out}: the annotated video is written as h264 in '
                              f'{sorted(VIDEO_FORMATS)} files; give one of those suffixes')
    model = init_recognizer(args.config, args.checkpoint, device=args.device,
                            cfg_options=args.cfg_options)
    window = default_window(model.cfg) if args.window is None else args.window
    stride = stride_frames(args.stride, window)
    print(f'Windows of {window} frames every {stride} frames over {args.video}')

    def report(record):
        best = ', '.join(f"{e['name']} {e['score']:.3f}" for e in record['labels']) or '-'
        print(f"frames {record['start_frame']:>6}-{record['end_frame']:<6} "
              f"({record['start_sec']:8.2f}-{record['end_sec']:8.2f} s): {best}", flush=True)

    timeline = video_timeline(model, args.video, window=window, stride=stride, topk=args.topk,
                              threshold=args.threshold, label_names=names, on_window=report)
    if args.json:
        write_text_atomic(args.json, json.dumps(timeline, indent=1) + '\n')
        print(f'Wrote {args.json} ({len(timeline["windows"])} windows)')
    if args.plot:
        from mmaction.visualization import save_figure
        from mmaction.visualization.timeline import plot_timeline
        save_figure(plot_timeline(timeline, window_thumbnails(args.video, timeline),
                                  title=osp.basename(args.video)), args.plot)
        print(f'Wrote {args.plot}')
    if args.out:
        shown = frame_windows(timeline)
        lines = [label_lines(w['labels']) for w in timeline['windows']]
        count = write_labelled_video(args.video, args.out, lambda i: lines[shown[i]]
                                     if i < len(shown) else [])
        print(f'Wrote {args.out} ({count} frames)')
    return timeline


if __name__ == '__main__':
    sys.exit(run_tool(main))
