"""Clips per second of one data-loader worker, per decoding backend, on generated videos.

    PYTHONPATH=. python tools/analysis/bench_processing.py --update-doc docs/benchmarks.md

Encodes test videos once (cached in ``--video-dir``), then runs AIM's pipelines in this
process, single-threaded (as one data-loader worker runs them), and reports clips/s and how
the time splits between opening + sampling + decoding, augmentation and formatting:

- ``k400_train``: decode 8 frames 8 apart, Resize(-1, 256), RandomResizedCrop,
  Resize(224, 224), Flip, Normalize, FormatShape, Collect, ToTensor;
- ``sthv2_train``: AIM's SSv2 pipeline (8 segment-sampled frames, the same crops and flip,
  RandAugment(n=4, m=7), RandomErasing(0.25));
- ``k400_config``: the training pipeline of ``configs/recognition/vit/vitclip_base_k400.py``
  as shipped (AIM's 32 frames 4 apart), its decoder steps swapped for each backend.

Each runs with decord, PyAV and OpenCV on the same files. ``--update-doc`` rewrites the
"Data pipeline" section of the given markdown file.
"""
import argparse
import os
import os.path as osp
import platform
import sys
import time
from collections import defaultdict

os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np

from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.utils.machine import cpu_name, load_average

BACKENDS = {
    'decord': ('DecordInit', 'DecordDecode'),
    'pyav': ('PyAVInit', 'PyAVDecode'),
    'opencv': ('OpenCVInit', 'OpenCVDecode'),
}
NORM = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)
TAIL = [dict(type='FormatShape', input_format='NCTHW'),
        dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
        dict(type='ToTensor', keys=['imgs', 'label'])]


def pipelines(backend):
    init, decode = BACKENDS[backend]
    crop_flip = [dict(type='Resize', scale=(-1, 256)), dict(type='RandomResizedCrop'),
                 dict(type='Resize', scale=(224, 224), keep_ratio=False)]
    return {
        'k400_train': [dict(type=init),
                       dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1),
                       dict(type=decode), *crop_flip, dict(type='Flip', flip_ratio=0.5),
                       dict(type='Normalize', **NORM), *TAIL],
        'sthv2_train': [dict(type=init),
                        dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1,
                             frame_uniform=True),
                        dict(type=decode), *crop_flip,
                        dict(type='Flip', flip_ratio=0.5, flip_label_map={86: 87, 87: 86}),
                        dict(type='Imgaug', transforms=[dict(type='RandAugment', n=4, m=7)]),
                        dict(type='Normalize', **NORM),
                        dict(type='RandomErasing', probability=0.25), *TAIL],
    }


K400_CONFIG = 'configs/recognition/vit/vitclip_base_k400.py'


def config_sampling(path=K400_CONFIG):
    """'N frames K apart' of a config's training sampler, for the table's description."""
    step = next(s for s in config_pipeline('pyav', path) if s['type'] == 'SampleFrames')
    return f"{step['clip_len']} frames {step.get('frame_interval', 1)} apart"


def config_pipeline(backend, path=K400_CONFIG):
    """A config's training pipeline with the backend's decoder steps in place of its own."""
    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    steps = Config.fromfile(osp.join(root, path)).train_pipeline
    init, decode = BACKENDS[backend]
    swap = {name: init for name, _ in BACKENDS.values()}
    swap.update({name: decode for _, name in BACKENDS.values()})
    return [dict(s, type=swap.get(s['type'], s['type'])) for s in steps]


STAGE = {'DecordInit': 'decode', 'PyAVInit': 'decode', 'OpenCVInit': 'decode',
         'SampleFrames': 'decode', 'DecordDecode': 'decode', 'PyAVDecode': 'decode',
         'OpenCVDecode': 'decode', 'FormatShape': 'format', 'Collect': 'format',
         'ToTensor': 'format'}

ENCODING = dict(codec='libx264', width=340, height=256, fps=30, seconds=10,
                options={'preset': 'medium', 'crf': '23'})
ENCODING_TEXT = ('H.264 (libx264, preset medium, crf 23, yuv420p, FFmpeg defaults: '
                 'keyframe interval 250, scene-cut keyframes, 3 B-frames), 340x256, 30 fps, '
                 '10 s (300 frames); content: a textured background panning 2-3 px/frame, a '
                 'moving disc changing colour, +-6 grey-level noise; about 0.45 MB per file')


def make_video(path, seed, codec, width, height, fps, seconds, options):
    """A clip with global and local motion and sensor-like noise (so it is not trivially
    compressible)."""
    import av
    rng = np.random.default_rng(seed)
    tex = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    tex = np.kron(tex, np.ones((8, 8, 1), np.uint8))[:height, :width]
    yy, xx = np.mgrid[0:height, 0:width]
    tmp = f'{path}.tmp{os.getpid()}{osp.splitext(path)[1]}'
    with av.open(tmp, 'w') as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, 'yuv420p'
        stream.options = dict(options)
        for i in range(fps * seconds):
            img = np.roll(tex, (2 * i, 3 * i), axis=(0, 1))
            cx = width / 2 + width / 3 * np.sin(i / 20 + seed)
            cy = height / 2 + height / 3 * np.cos(i / 15 + seed)
            img[(xx - cx)**2 + (yy - cy)**2 < 40**2] = (int(127 + 127 * np.sin(i / 10)), 80, 200)
            img = np.clip(img + rng.integers(-6, 7, img.shape), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)


def prepare_videos(video_dir, num_videos):
    os.makedirs(video_dir, exist_ok=True)
    paths = []
    for i in range(num_videos):
        path = osp.join(video_dir, f'clip{i:02d}.mp4')
        if not osp.isfile(path):
            make_video(path, i, **ENCODING)
        paths.append(path)
    return paths


def run(pipeline_cfg, files, passes):
    """Throughput of a pipeline over ``files``, ``passes`` times: (clips per CPU second,
    clips per wall-clock second, {stage: CPU seconds per clip}).

    CPU time (this process's) is what one worker costs on a core of its own; wall time also
    counts waiting for a core, which on a shared machine says more about the neighbours."""
    from mmaction.registry import TRANSFORMS
    steps = [(cfg['type'], TRANSFORMS.build(cfg)) for cfg in pipeline_cfg]
    stage_time = defaultdict(float)
    for f in files:  # warm-up: page cache, lazy imports
        results = dict(filename=f, label=86, start_index=0, modality='RGB')
        for _, step in steps:
            results = step(results)
    clips = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(passes):
        for f in files:
            results = dict(filename=f, label=86, start_index=0, modality='RGB')
            for name, step in steps:
                t0 = time.process_time()
                results = step(results)
                stage_time[STAGE.get(name, 'augment')] += time.process_time() - t0
            clips += 1
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return clips / cpu, clips / wall, {k: v / clips for k, v in stage_time.items()}


def environment():
    import av
    import cv2
    import decord
    return (f'{cpu_name()}, {os.cpu_count()} cores (load average {load_average():.1f} at start); '
            f'Python {platform.python_version()}, numpy {np.__version__}, decord '
            f'{decord.__version__}, PyAV {av.__version__}, OpenCV {cv2.__version__}')


def render(rows, env, command):
    lines = [
        '## Data pipeline',
        '',
        f'Command: `{command}`',
        '',
        f'Machine: {env}. One process, one thread, as one data-loader worker runs the '
        'pipeline. "clips/s per worker" is clips per second of CPU time of that process (what '
        'a worker delivers with a core to itself), the median of the runs whose range follows '
        '(the machine is a shared VM: the CPU a process gets varies); "wall" is clips per '
        'elapsed second, lower when other processes compete for the cores.',
        '',
        f'Videos: {ENCODING_TEXT}.',
        '',
        'Pipelines: k400_train decodes 8 frames 8 apart, then Resize(-1, 256), '
        'RandomResizedCrop, Resize(224, 224), Flip; sthv2_train is AIM\'s SSv2 pipeline (8 '
        'segment-sampled frames, the same crops, Flip with label map, RandAugment(n=4, m=7), '
        'RandomErasing(0.25)); k400_config is the training pipeline of '
        f'`{K400_CONFIG}` as shipped ({config_sampling()}), whose own decoder is PyAV; '
        'each row swaps in the backend named.',
        '',
        '| pipeline | backend | clips/s per worker | (range) | (wall) | decode ms/clip | '
        'augment ms/clip | format ms/clip | augment share |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for name, backend, rate, spread, wall, stages in rows:
        total = sum(stages.values())
        lines.append(f"| {name} | {backend} | {rate:.1f} | {spread[0]:.1f}-{spread[1]:.1f} | "
                     f"{wall:.1f} | "
                     f"{1e3 * stages.get('decode', 0):.1f} "
                     f"| {1e3 * stages.get('augment', 0):.1f} | "
                     f"{1e3 * stages.get('format', 0):.1f} | "
                     f"{100 * stages.get('augment', 0) / total:.0f}% |")
    lines.append('')
    for name in dict.fromkeys(r[0] for r in rows):
        ranked = sorted((r for r in rows if r[0] == name), key=lambda r: -r[2])
        lines.append(f'- {name}: fastest backend {ranked[0][1]} ({ranked[0][2]:.1f} clips/s per '
                     'worker), then ' + ', '.join(f'{r[1]} ({r[2]:.1f})' for r in ranked[1:]) +
                     '.')
    lines += [
        '- Frames are copied as little as the pipeline allows: the decoder writes one uint8 '
        'array; Resize(-1, 256) of a 256-high video does nothing; RandomResizedCrop and Flip are '
        'views; Resize(224, 224) writes each frame once; FormatShape makes the clip contiguous '
        'in (views, C, T, H, W) order (the one copy); the packed tensor shares its memory.',
        '',
        'decode = open + index + sample + decode the sampled frames; augment = resize, crops, '
        'flip, RandAugment, erasing (uint8); format = FormatShape (the one copy that makes the '
        'clip contiguous) + packing (no copy); all in CPU ms per clip.',
        '',
    ]
    return '\n'.join(lines)


def update_doc(path, section):
    text = open(path).read() if osp.isfile(path) else '# Benchmarks\n\n'
    start = text.find('## Data pipeline')
    if start < 0:
        text = text.rstrip('\n') + '\n\n' + section.rstrip('\n') + '\n'
    else:
        end = text.find('\n## ', start + 1)
        rest = text[end + 1:] if end >= 0 else ''
        text = text[:start] + section.rstrip('\n') + '\n' + ('\n' + rest if rest else '')
    from mmaction.utils import write_text_atomic
    write_text_atomic(path, text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--video-dir', default='data/bench_processing')
    parser.add_argument('--num-videos', type=int, default=8)
    parser.add_argument('--passes', type=int, default=5, help='timed passes over the videos')
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed runs per row; the table shows the median and the range')
    parser.add_argument('--backends', nargs='+', default=list(BACKENDS), choices=list(BACKENDS))
    names = ['k400_train', 'sthv2_train', 'k400_config']
    parser.add_argument('--pipelines', nargs='+', default=names, choices=names)
    parser.add_argument('--update-doc', help='markdown file whose "Data pipeline" section is '
                        'replaced by the results')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.update_doc and not os.path.isfile(args.update_doc):  # before the work
        raise FileNotFoundError(f'--update-doc {args.update_doc}: no such file')

    import cv2
    import torch
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    env = environment()
    files = prepare_videos(args.video_dir, args.num_videos)
    rows = []
    for name in args.pipelines:
        for backend in args.backends:
            steps = config_pipeline(backend) if name == 'k400_config' else pipelines(backend)[name]
            repeats = []
            for _ in range(args.repeats):
                np.random.seed(0)
                repeats.append(run(steps, files, args.passes))
            repeats.sort(key=lambda r: r[0])
            rate, wall, stages = repeats[len(repeats) // 2]  # the median run
            spread = (repeats[0][0], repeats[-1][0])
            rows.append((name, backend, rate, spread, wall, stages))
            print(f'{name:12s} {backend:7s} {rate:6.1f} clips/CPU-s '
                  f'({spread[0]:.1f}-{spread[1]:.1f}; {wall:5.1f} wall)  ' + '  '.join(
                      f'{k} {1e3 * v:.1f} ms' for k, v in sorted(stages.items())), flush=True)
    command = 'PYTHONPATH=. python tools/analysis/bench_processing.py ' + ' '.join(
        a for a in (argv if argv is not None else sys.argv[1:]))
    section = render(rows, env, command.strip())
    print('\n' + section)
    if args.update_doc:
        update_doc(args.update_doc, section)


if __name__ == '__main__':
    sys.exit(run_tool(main))
