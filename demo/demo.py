"""Recognise the action in a video and print the top-k classes; optionally write the video
with the best class drawn on every frame.

    python demo/demo.py VIDEO CONFIG CHECKPOINT LABEL_MAP [--device cpu] [--topk 5]
        [--out-file annotated.mp4] [--cfg-options KEY=VALUE ...]

LABEL_MAP names one class per line (line i names class i). The video goes through the
config's test pipeline, exactly as in ``tools/test.py`` (same views, same scores). mmaction2's
argument order (CONFIG CHECKPOINT VIDEO LABEL_MAP) is recognised too.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from mmaction.engine.launch import add_debug_argument, run_tool  # noqa: E402


def parse_args(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description='Recognise the action in a video (AIM)')
    parser.add_argument('video', help='video file (or frame folder for a frame-folder config)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('label_map', help='class names, one per line')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda', 'cuda:1' ...")
    parser.add_argument('--topk', type=int, default=5, help='how many classes to print')
    parser.add_argument('--out-file', '--out-filename', dest='out_file',
                        help='write the video with the top class drawn on it (.mp4, .mov, '
                        '.mkv; h264)')
    parser.add_argument('--fps', type=float, help='frame rate of --out-file (default: the '
                        "input's)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.backbone.pretrained=None')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.video.endswith('.py') and not args.config.endswith('.py'):
        # mmaction2's order: CONFIG CHECKPOINT VIDEO LABEL_MAP
        args.video, args.config, args.checkpoint = args.checkpoint, args.video, args.config
        print('Reading the arguments in mmaction2\'s order: CONFIG CHECKPOINT VIDEO LABEL_MAP')
    return args


def main(argv=None):
    args = parse_args(argv)
    from mmaction.apis import inference_recognizer, init_recognizer, read_label_names
    names = read_label_names(args.label_map)
    model = init_recognizer(args.config, args.checkpoint, device=args.device,
                            cfg_options=args.cfg_options)
    top = inference_recognizer(model, args.video, topk=args.topk, label_names=names)
    width = max(len(name) for _, name, _ in top)
    print(f'Top-{len(top)} for {args.video}:')
    for rank, (index, name, score) in enumerate(top, 1):
        print(f'{rank:>3}. {name:<{width}}  {score:.4f}  (class {index})')
    if args.out_file:
        from mmaction.visualization.video import write_labelled_video
        _, name, score = top[0]
        frames = write_labelled_video(args.video, args.out_file, f'{name}: {score:.2f}',
                                      fps=args.fps)
        print(f'Wrote {args.out_file} ({frames} frames)')
    return top


if __name__ == '__main__':
    sys.exit(run_tool(main))
