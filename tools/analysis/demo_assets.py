"""The demos' outputs shown in docs/demos.md, made from the built-in synthetic benchmark with
the model ``tools/quickstart.py`` trained.

    python tools/quickstart.py                       # once: data/synthetic, work_dirs/quickstart
    python tools/analysis/demo_assets.py --out-dir docs/demos

1. a long video (``--segments`` of ``--segment-frames`` frames, the object's direction
   changing between them without a cut) through ``demo/long_video_demo.py``: the timeline
   (JSON and PNG) and the annotated video (in ``--work-dir``, not for the docs);
2. ``demo/demo_gradcam.py`` on a validation clip: a GIF;
3. how much of the Grad-CAM heat lies on the moving object, over the validation clips: the
   heat's share inside the object's masks (``mmaction.synthetic.videos.object_masks``) over
   the masks' share of the frame, printed and written as ``gradcam_heat.json``.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import sys

import numpy as np

from mmaction.engine.launch import add_debug_argument, run_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'recognition', 'vit', 'vitclip_tiny_synthetic.py')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data-root', default='data/synthetic', help="quickstart's --data-root")
    p.add_argument('--work-dir', default='work_dirs/quickstart', help="quickstart's --work-dir "
                   '(its last checkpoint is used)')
    p.add_argument('--checkpoint', help='a checkpoint instead of the work dir\'s last one')
    p.add_argument('--out-dir', default='docs/demos', help='where the files for the docs go')
    p.add_argument('--segments', nargs='+', type=int, default=[0, 1, 0, 1],
                   help='the class of each segment of the long video')
    p.add_argument('--segment-frames', type=int, default=40)
    p.add_argument('--window', type=int, default=16)
    p.add_argument('--stride', type=int, default=8)
    p.add_argument('--gradcam-clip', default='val/val_00000.mp4',
                   help='the validation clip of the GIF (relative to the videos folder)')
    p.add_argument('--heat-clips', type=int, default=50,
                   help='validation clips the heat share is measured on')
    p.add_argument('--seed', type=int, default=0)
    add_debug_argument(p)
    return p.parse_args(argv)


def load_demo(name):
    """A ``demo/`` script as a module."""
    path = osp.join(ROOT, 'demo', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_long_video(path: str, labels, segment_frames: int, seed: int) -> np.ndarray:
    """Render the long video (64 x 64, 16 fps); returns each frame's true class."""
    from mmaction.synthetic.videos import continue_clip, render_clip, sample_clip_spec, write_mp4
    spec = sample_clip_spec(np.random.default_rng([seed, 3]), labels[0], size=64,
                            num_frames=segment_frames)
    specs = [spec]
    for label in labels[1:]:
        specs.append(continue_clip(specs[-1], label, segment_frames))
    write_mp4(path, np.concatenate([render_clip(s) for s in specs]), fps=16)
    return np.repeat(np.asarray(labels), segment_frames)


def heat_shares(model, root: str, clips, label_names=None) -> dict:
    """Grad-CAM heat inside the object's masks on each of ``clips`` (paths relative to
    ``root/videos``, as in ``meta.json``), explaining the true class."""
    from mmaction.apis import gradcam_video
    from mmaction.synthetic.videos import clip_spec_from_dict, object_masks
    from mmaction.visualization.gradcam import heat_share, masks_on_input
    with open(osp.join(root, 'meta.json')) as f:
        meta = json.load(f)['clips']
    rows = []
    for rel in clips:
        spec = clip_spec_from_dict(meta[rel])
        result = gradcam_video(model, osp.join(root, 'videos', rel), label=spec.label)
        heat = result['heat']
        masks = masks_on_input(object_masks(spec), result['frame_inds'],
                               (heat.shape[-1], heat.shape[-2]))
        inside, area = heat_share(heat, masks)
        rows.append(dict(clip=rel, label=spec.label, heat_inside=inside, mask_area=area,
                         ratio=inside / area,
                         predicted=int(result['scores'].mean(0).argmax())))
    ratios = np.array([r['ratio'] for r in rows])
    return dict(clips=rows, mean_heat_inside=float(np.mean([r['heat_inside'] for r in rows])),
                mean_mask_area=float(np.mean([r['mask_area'] for r in rows])),
                mean_ratio=float(ratios.mean()), median_ratio=float(np.median(ratios)),
                min_ratio=float(ratios.min()), layer=result['layer'])


def main(argv=None):
    args = parse_args(argv)
    from mmaction.apis import init_recognizer
    from mmaction.synthetic import benchmark as bench
    from mmaction.utils.fileio import write_text_atomic
    root, work_dir, out_dir = (osp.abspath(p) for p in (args.data_root, args.work_dir,
                                                        args.out_dir))
    for name in ('meta.json', 'label_map.txt', bench.TOWER_FILE):
        if not osp.isfile(osp.join(root, name)):
            raise FileNotFoundError(f'{osp.join(root, name)} does not exist: run '
                                    f'python tools/quickstart.py --data-root {args.data_root} '
                                    'first')
    checkpoint = args.checkpoint or bench.last_checkpoint(work_dir)
    paths = dict(videos=osp.join(root, 'videos'), train=osp.join(root, 'train.txt'),
                 val=osp.join(root, 'val.txt'), tower=osp.join(root, bench.TOWER_FILE))
    options = bench.data_options(paths)
    cfg_args = ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]
    label_map = osp.join(root, 'label_map.txt')
    os.makedirs(out_dir, exist_ok=True)

    # 1. the long video
    video = osp.join(work_dir, 'long_video.mp4')
    truth = write_long_video(video, args.segments, args.segment_frames, args.seed)
    timeline = load_demo('long_video_demo').main(
        [video, CONFIG, checkpoint, label_map, '--json',
         osp.join(out_dir, 'long_video_timeline.json'), '--plot',
         osp.join(out_dir, 'long_video_timeline.png'), '--out',
         osp.join(work_dir, 'long_video_annotated.mp4'), '--window', str(args.window),
         '--stride', str(args.stride), '--topk', '2', '--threshold', '0'] + cfg_args)
    names = open(label_map).read().split('\n')
    print('window   true classes in it   top-1')
    for w in timeline['windows']:
        present = sorted({names[c] for c in truth[w['start_frame']:w['end_frame']]})
        top = w['labels'][0]
        print(f"{w['start_frame']:>3}-{w['end_frame']:<3}  {'+'.join(present):<19}  "
              f"{top['name']} {top['score']:.3f}")

    # 2. the Grad-CAM GIF
    load_demo('demo_gradcam').main(
        [osp.join(root, 'videos', args.gradcam_clip), CONFIG, checkpoint, '--out',
         osp.join(out_dir, 'gradcam.gif'), '--label-map', label_map, '--target-resolution',
         '96', '96', '--fps', '4'] + cfg_args)

    # 3. the heat on the object
    model = init_recognizer(CONFIG, checkpoint, cfg_options=options)
    with open(paths['val']) as f:
        clips = [line.split()[0] for line in f if line.strip()][:args.heat_clips]
    shares = heat_shares(model, root, clips)
    write_text_atomic(osp.join(out_dir, 'gradcam_heat.json'), json.dumps(shares, indent=1))
    print(f"Grad-CAM at {shares['layer']} on {len(clips)} validation clips (true class): "
          f"{100 * shares['mean_heat_inside']:.1f}% of the heat on the object, which covers "
          f"{100 * shares['mean_mask_area']:.1f}% of the frame: {shares['mean_ratio']:.1f}x "
          f"on average (median {shares['median_ratio']:.1f}x, lowest {shares['min_ratio']:.1f}x)")
    return dict(timeline=timeline, heat=shares)


if __name__ == '__main__':
    sys.exit(run_tool(main))
