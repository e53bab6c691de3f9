"""Where the model looks: Grad-CAM over the frames of a video, blended over them.

    python demo/demo_gradcam.py VIDEO CONFIG CHECKPOINT --out OUT.gif|OUT.mp4
        [--target-layer NAME] [--label N] [--label-map FILE] [--alpha 0.5] [--fps 5]
        [--target-resolution W H] [--device cpu] [--cfg-options KEY=VALUE ...]

The video goes through the config's test pipeline; every view (clip x crop) is explained and
the views are laid side by side, frame after frame, at the model's input size (or
``--target-resolution``; -1 keeps the aspect ratio). ``--label`` picks the class to explain
(default: the predicted one). ``--target-layer`` is a module name as
``model.named_modules()`` gives it (default: the input of the last block of a ViT, the final
``norm`` of a Swin; see ``mmaction/visualization/gradcam.py``). AIM's argument order (CONFIG
CHECKPOINT VIDEO) and option names (``--out-filename``, ``--target-layer-name`` with ``/``
between names) are recognised too.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from mmaction.engine.launch import add_debug_argument, run_tool  # noqa: E402


def parse_args(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description='Grad-CAM of a video (AIM)')
    parser.add_argument('video', help='video file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', '--out-filename', dest='out', required=True,
                        help='the blended frames: .gif, or .mp4/.mov/.mkv (h264)')
    parser.add_argument('--target-layer', '--target-layer-name', dest='target_layer',
                        help='module to explain (default: see above)')
    parser.add_argument('--label', type=int, help='class to explain (default: the predicted)')
    parser.add_argument('--label-map', help='class names, one per line (for the printout)')
    parser.add_argument('--alpha', type=float, default=0.5, help='opacity of the heat map')
    parser.add_argument('--fps', type=float, default=5, help='frame rate of --out')
    parser.add_argument('--target-resolution', nargs=2, type=int, metavar=('W', 'H'),
                        help='size of each view in --out (-1 keeps the aspect ratio)')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda', 'cuda:1' ...")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.backbone.pretrained=None')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.video.endswith('.py') and not args.config.endswith('.py'):
        # AIM's order: CONFIG CHECKPOINT VIDEO
        args.video, args.config, args.checkpoint = args.checkpoint, args.video, args.config
        print("Reading the arguments in AIM's order: CONFIG CHECKPOINT VIDEO")
    return args


def output_size(width: int, height: int, target) -> tuple:
    """(W, H) of each view in the output: ``target`` with -1 keeping the aspect ratio."""
    if target is None:
        return width, height
    tw, th = target
    if tw == -1 and th == -1 or tw == 0 or th == 0 or min(tw, th) < -1:
        from mmaction.engine import ConfigError
        raise ConfigError(f'--target-resolution {tw} {th}: give W H in pixels (one of them '
                          'may be -1 to keep the aspect ratio)')
    if tw == -1:
        tw = round(width * th / height)
    if th == -1:
        th = round(height * tw / width)
    return tw, th


def montage(frames, size) -> list:
    """(views, T, H, W, 3) frames as T images, the views side by side, each resized to
    ``size`` (W, H)."""
    import cv2
    import numpy as np
    views = [[cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) if f.shape[1::-1] != size
              else f for f in view] for view in frames]
    return [np.concatenate([view[t] for view in views], axis=1) for t in range(len(views[0]))]


def main(argv=None):
    args = parse_args(argv)
    from mmaction.apis import gradcam_video, init_recognizer, read_label_names
    from mmaction.engine import ConfigError
    from mmaction.visualization.video import FRAME_FORMATS, blend_heat, write_frames
    if not osp.isfile(args.video):
        raise FileNotFoundError(f'video {args.video} does not exist')
    if osp.splitext(args.out)[1].lower() not in FRAME_FORMATS:
        raise ConfigError(f'--out {args.out}: Grad-CAM frames are written as {FRAME_FORMATS}; '
                          'give one of those suffixes')
    if not 0 <= args.alpha <= 1:
        raise ConfigError(f'--alpha must be in [0, 1], got {args.alpha}')
    names = read_label_names(args.label_map)
    model = init_recognizer(args.config, args.checkpoint, device=args.device,
                            cfg_options=args.cfg_options)
    result = gradcam_video(model, args.video, label=args.label, target_layer=args.target_layer,
                           label_names=names)
    frames = result['frames']  # (views, T, H, W, 3)
    blended = blend_heat(frames, result['heat'], alpha=args.alpha)
    size = output_size(frames.shape[3], frames.shape[2], args.target_resolution)
    count = write_frames(args.out, montage(blended, size), fps=args.fps)
    label = result['label'] if result['name'] is None else f"{result['label']} ({result['name']})"
    print(f"Grad-CAM of class {label} at {result['layer']}, {frames.shape[0]} view(s) of "
          f'{frames.shape[1]} frames')
    print(f'Wrote {args.out} ({count} frames)')
    return result


if __name__ == '__main__':
    sys.exit(run_tool(main))
