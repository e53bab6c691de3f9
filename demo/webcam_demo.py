"""A rolling prediction over a live source: a camera, a video file or a stream URL, read with
OpenCV; every ``--stride`` frames the last ``--window`` frames are recognised.

    python demo/webcam_demo.py CONFIG CHECKPOINT LABEL_MAP [--camera-id 0 | --source FILE_OR_URL]
        [--out annotated.mp4] [--no-display] [--window N] [--stride N] [--average-size K]
        [--topk K] [--threshold T] [--max-frames N] [--device cpu] [--cfg-options ...]

Each recognition prints one line (the frame it ended at and the top classes); with a display
the frames are shown with the latest prediction (press q or Esc to stop), ``--out`` writes
them as a video. ``--no-display`` runs headless (servers, tests). A window's frames go
through the config's test pipeline as ``demo/demo.py`` would take them; ``--average-size K``
averages the scores of the last K windows (AIM's option). Recognition runs in the reading
loop: on a slow device a camera's frames wait for it.
"""
import argparse
import contextlib
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from mmaction.engine.launch import add_debug_argument, run_tool  # noqa: E402

WINDOW_TITLE = 'AIM (q or Esc to stop)'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Rolling action recognition on a camera, '
                                     'file or stream')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('label_map', help='class names, one per line')
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--camera-id', type=int, default=0, help='camera index (default 0)')
    source.add_argument('--source', help='a video file or stream URL instead of a camera')
    parser.add_argument('--out', help='write the annotated frames as a video (.mp4, .mov, '
                        '.mkv)')
    parser.add_argument('--no-display', action='store_true', help='do not open a window')
    parser.add_argument('--window', type=int, help='frames per recognition (default: the '
                        "span of one view of the config's test sampler)")
    parser.add_argument('--stride', type=int, help='frames between recognitions (default: '
                        'half a window)')
    parser.add_argument('--average-size', type=int, default=1,
                        help='average the scores of this many latest windows')
    parser.add_argument('--topk', type=int, default=5, help='classes shown')
    parser.add_argument('--threshold', type=float, default=0.01,
                        help='leave out classes scoring below this')
    parser.add_argument('--max-frames', type=int, help='stop after this many frames')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda', 'cuda:1' ...")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.backbone.pretrained=None')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def open_source(args):
    """``cv2.VideoCapture`` of ``--source`` or ``--camera-id``, opened, and its name."""
    import cv2
    if args.source is not None:
        capture, name = cv2.VideoCapture(args.source), args.source
    else:
        capture, name = cv2.VideoCapture(args.camera_id), f'camera {args.camera_id}'
    if not capture.isOpened():
        raise FileNotFoundError(f'{name} could not be opened by OpenCV (check the camera '
                                'index, the file or the URL)')
    return capture, name


def main(argv=None):
    args = parse_args(argv)
    from mmaction.apis import LabelMapError, RollingRecognizer, init_recognizer, read_label_names
    from mmaction.apis.windows import label_lines
    from mmaction.engine import ConfigError
    from mmaction.visualization.video import VIDEO_FORMATS, draw_lines, video_writer
    for path, what in ((args.config, 'config file'), (args.checkpoint, 'checkpoint'),
                       (args.label_map, 'label map')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path} does not exist')
    names = read_label_names(args.label_map)
    if not names:
        raise LabelMapError(f'label map {args.label_map} names no class (expected one class '
                            'name per line)')
    if args.out and osp.splitext(args.out)[1].lower() not in VIDEO_FORMATS:
        raise ConfigError(f'--out {args.out}: the video is written as h264 in '
                          f'{sorted(VIDEO_FORMATS)} files; give one of those suffixes')
    if args.source is not None and '://' not in args.source and not osp.isfile(args.source):
        raise FileNotFoundError(f'--source {args.source} does not exist (give a video file, a '
                                'stream URL such as rtsp://..., or --camera-id)')
    import cv2
    model = init_recognizer(args.config, args.checkpoint, device=args.device,
                            cfg_options=args.cfg_options)
    rolling = RollingRecognizer(model, window=args.window, stride=args.stride,
                                average=args.average_size, topk=args.topk,
                                threshold=args.threshold, label_names=names)
    capture, source_name = open_source(args)
    print(f'Recognising {source_name}: windows of {rolling.window} frames every '
          f'{rolling.windows.stride} frames', flush=True)
    fps = capture.get(cv2.CAP_PROP_FPS) or 30
    predictions, lines = [], [f'waiting for {rolling.window} frames']
    writer = video_writer(args.out, fps) if args.out else contextlib.nullcontext()
    try:
        with writer as out:
            while args.max_frames is None or rolling.windows.count < args.max_frames:
                ok, bgr = capture.read()
                if not ok:
                    break
                frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                ready = rolling.push(frame)
                if ready is not None:
                    count, ranked = ready
                    predictions.append(dict(frame=count, labels=ranked))
                    lines = label_lines(ranked) or ['(no class above the threshold)']
                    print(f'frame {count}: ' + ', '.join(lines), flush=True)
                if out is not None or not args.no_display:
                    shown = draw_lines(frame.copy(), lines)
                    if out is not None:
                        out.write(shown)
                    if not args.no_display:
                        cv2.imshow(WINDOW_TITLE, cv2.cvtColor(shown, cv2.COLOR_RGB2BGR))
                        if cv2.waitKey(1) & 0xFF in (ord('q'), 27):
                            break
    finally:
        capture.release()
        if not args.no_display:
            cv2.destroyAllWindows()
    print(f'{rolling.windows.count} frames read, {len(predictions)} recognitions'
          + (f'; wrote {args.out}' if args.out else ''))
    return predictions


if __name__ == '__main__':
    sys.exit(run_tool(main))
