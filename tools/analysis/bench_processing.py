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

Each runs with decord, PyAV and OpenCV on the same files ("Data pipeline" section). PyAVInit
keeps each video's packet index (``index_cache_mb``), so after the warm-up pass the PyAV rows
seek without demuxing; ``--index-cache-mb 0`` measures every opening demuxing the file (an
epoch over a dataset whose indexes do not fit the cache).

The same videos, prepared (``--forms``, "Data pipeline on prepared data" section): re-encoded
by ``tools/data/resize_videos.py``'s code with short keyframe intervals (``keyint16`` ...), or
extracted to JPEG frames by ``tools/data/build_rawframes.py``'s (``rawframes``). Those rows run
the PyAV pipelines of the configs (``k400_train``, ``k400_config`` and ``sthv2_config``, the
training pipeline of ``vitclip_base_sthv2.py``), or ``RawFrameDecode`` in their place, and
report the disk bytes per video, the PSNR of the prepared frames against the downloaded ones,
and whether every clip sampled the same frame indices as from the downloaded videos (a
mismatch ends the run with an error). ``--update-doc`` rewrites both sections of the given
markdown file.
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
STHV2_CONFIG = 'configs/recognition/vit/vitclip_base_sthv2.py'
CONFIGS = {'k400_config': K400_CONFIG, 'sthv2_config': STHV2_CONFIG}


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


def with_index_cache(steps, cache_mb):
    """``steps`` with PyAVInit keeping ``cache_mb`` MB of packet indexes per worker (None: its
    default)."""
    if cache_mb is None:
        return steps
    return [dict(s, index_cache_mb=cache_mb) if s['type'] == 'PyAVInit' else s for s in steps]


def index_cache_text(cache_mb):
    """What the PyAV rows measure of PyAVInit's packet index cache."""
    from mmaction.datasets.transforms import PyAVInit
    mb = PyAVInit().index_cache_mb if cache_mb is None else cache_mb
    if not mb:
        return ('PyAVInit keeps no packet indexes here (`--index-cache-mb 0`): every clip '
                'demuxes its whole video, as in an epoch over a dataset larger than the cache.')
    return (f'PyAVInit keeps each video\'s packet index (index_cache_mb={mb:g} per worker): '
            'the warm-up pass indexes the videos, so every timed PyAV clip seeks to its '
            'keyframes without demuxing the file, as in a dataset whose indexes fit the cache '
            '(`--index-cache-mb 0` measures the other case, every opening demuxing).')


def rawframe_pipeline(steps):
    """A video pipeline reading extracted frames: no opening step, ``RawFrameDecode`` in place
    of the decoder."""
    opens = {name for name, _ in BACKENDS.values()}
    decodes = {name for _, name in BACKENDS.values()}
    return [dict(type='RawFrameDecode') if s['type'] in decodes else s for s in steps
            if s['type'] not in opens]


STAGE = {'DecordInit': 'decode', 'PyAVInit': 'decode', 'OpenCVInit': 'decode',
         'SampleFrames': 'decode', 'DecordDecode': 'decode', 'PyAVDecode': 'decode',
         'OpenCVDecode': 'decode', 'RawFrameDecode': 'decode', 'FormatShape': 'format',
         'Collect': 'format', 'ToTensor': 'format'}

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


def video_samples(files):
    """The results a VideoDataset starts the pipeline with, one per file."""
    return [dict(filename=f, label=86, start_index=0, modality='RGB') for f in files]


def run(pipeline_cfg, samples, passes):
    """Throughput of a pipeline over ``samples`` (the results each clip starts from),
    ``passes`` times: (clips per CPU second, clips per wall-clock second, {stage: CPU seconds
    per clip}, the sampled frame indices of every clip, counted from the video's first frame).

    CPU time (this process's) is what one worker costs on a core of its own; wall time also
    counts waiting for a core, which on a shared machine says more about the neighbours.
    Clip ``k`` of a pass draws from ``random``/``numpy`` seeded with ``k`` (as the training
    sampler seeds each sample), so every run and data form samples the same frames."""
    import random

    from mmaction.registry import TRANSFORMS
    steps = [(cfg['type'], TRANSFORMS.build(cfg)) for cfg in pipeline_cfg]
    stage_time = defaultdict(float)
    for sample in samples:  # warm-up: page cache, lazy imports
        results = dict(sample)
        for _, step in steps:
            results = step(results)
    clips, indices = 0, []
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(passes):
        for k, sample in enumerate(samples):
            random.seed(k)
            np.random.seed(k)
            results = dict(sample)
            for name, step in steps:
                t0 = time.process_time()
                results = step(results)
                stage_time[STAGE.get(name, 'augment')] += time.process_time() - t0
                if name == 'SampleFrames':
                    indices.append(np.asarray(results['frame_inds']) - results['start_index'])
            clips += 1
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return clips / cpu, clips / wall, {k: v / clips for k, v in stage_time.items()}, indices


def timed(steps, samples, passes, repeats):
    """The median of ``repeats`` runs (by clips per CPU second), the range of that rate, and
    the frame indices of every run."""
    runs = sorted((run(steps, samples, passes) for _ in range(repeats)), key=lambda r: r[0])
    rate, wall, stages, _ = runs[len(runs) // 2]
    return rate, (runs[0][0], runs[-1][0]), wall, stages, [r[3] for r in runs]


#: data forms of the prepared rows: the downloaded videos, re-encoded at short side 256 with
#: the keyframe interval named (``resize_videos.py --keyint N``), or JPEG frames
#: (``build_rawframes.py``)
FORMS = {'downloaded': None, 'keyint32': dict(keyint=32), 'keyint16': dict(keyint=16),
         'keyint8': dict(keyint=8), 'keyint32_fastdecode': dict(keyint=32, tune='fastdecode'),
         'keyint16_fastdecode': dict(keyint=16, tune='fastdecode'), 'rawframes': '420',
         'rawframes_444': '444'}
PREPARED = dict(short_side=256, crf=23, preset='medium')  # the tools' defaults
FRAMES = dict(short_side=256, quality=95)  # and chroma: the form's value


def prepare_form(video_dir, files, form):
    """(the samples of ``form`` made from ``files`` with the preparation tools' code, cached
    under ``video_dir/prepared/form``; the mean disk bytes per video)."""
    from mmaction.datasets import preparation as prep
    if FORMS[form] is None:
        return video_samples(files), float(np.mean([osp.getsize(f) for f in files]))
    folder = osp.join(video_dir, 'prepared', form)
    stem = [osp.splitext(osp.basename(f))[0] for f in files]
    frames = isinstance(FORMS[form], str)
    if frames:
        jobs = [(prep.extract_frames, f, osp.join(folder, n), dict(FRAMES, chroma=FORMS[form]))
                for f, n in zip(files, stem)]
    else:
        jobs = [(prep.resize_video, f, osp.join(folder, n + '.mp4'), dict(PREPARED, **FORMS[form]))
                for f, n in zip(files, stem)]
    failed = [(dst, why) for dst, status, why in prep.run_jobs(jobs) if status == 'failed']
    if failed:
        raise RuntimeError(f'preparing {form} failed: {failed}')
    outputs = [job[2] for job in jobs]
    if not frames:
        return video_samples(outputs), float(np.mean([osp.getsize(f) for f in outputs]))
    samples = [dict(frame_dir=d, total_frames=prep.count_frames(d), label=86, start_index=1,
                    modality='RGB', filename_tmpl=prep.FRAME_TEMPLATE) for d in outputs]
    sizes = [sum(e.stat().st_size for e in os.scandir(d)) for d in outputs]
    return samples, float(np.mean(sizes))


def all_frames(sample):
    """Every frame of a sample (video or frame folder), (T, H, W, 3) uint8 RGB."""
    if 'frame_dir' in sample:
        import cv2
        return np.stack([cv2.imread(osp.join(sample['frame_dir'],
                                             sample['filename_tmpl'].format(i)))[..., ::-1]
                         for i in range(1, sample['total_frames'] + 1)])
    import av
    with av.open(sample['filename']) as container:
        return np.stack([f.to_ndarray(format='rgb24') for f in container.decode(video=0)])


def psnr(reference, prepared):
    """PSNR in dB over every pixel of every frame of the prepared samples against the
    reference ones (same frame count and size, or an error)."""
    squared, count = 0.0, 0
    for a, b in zip(reference, prepared):
        x, y = all_frames(a), all_frames(b)
        if x.shape != y.shape:
            raise RuntimeError(f'{b}: frames {y.shape}, the downloaded video {x.shape}')
        squared += float(np.sum((x.astype(np.float64) - y) ** 2))
        count += x.size
    mse = squared / count
    return float('inf') if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def same_indices(runs, reference):
    """Whether every run sampled, clip for clip, the frame indices of ``reference``."""
    return all(len(r) == len(reference) and all(np.array_equal(a, b) for a, b in
                                                zip(r, reference)) for r in runs)


def environment():
    import av
    import cv2
    import decord
    return (f'{cpu_name()}, {os.cpu_count()} cores (load average {load_average():.1f} at start); '
            f'Python {platform.python_version()}, numpy {np.__version__}, decord '
            f'{decord.__version__}, PyAV {av.__version__}, OpenCV {cv2.__version__}')


def render(rows, env, command, cache_mb=None):
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
        'each row swaps in the backend named. ' + index_cache_text(cache_mb),
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


#: clips/s per worker that issue 18 asks for on prepared data
TARGETS = {'k400_train': 60.0, 'k400_config': 2 * 16.6}


def render_prepared(rows, env, command, cache_mb=None):
    lines = [
        '## Data pipeline on prepared data',
        '',
        f'Command: `{command}`',
        '',
        f'Machine: {env}. Measured as in "Data pipeline" (clips per CPU second of one '
        'single-threaded process, median and range of the runs; wall: per elapsed second).',
        '',
        f'Data: the videos of "Data pipeline" as downloaded ({ENCODING_TEXT}); re-encoded by '
        '`tools/data/resize_videos.py --short-side 256 --keyint N [--tune fastdecode]` '
        '(libx264 crf 23, preset medium: the tool\'s defaults; rows `keyintN[_fastdecode]`); '
        'or extracted by '
        '`tools/data/build_rawframes.py --short-side 256 --quality 95 [--chroma 444]` (rows '
        '`rawframes` (JPEG 4:2:0, the default) and `rawframes_444`, read by `RawFrameDecode`). '
        'Pipelines: k400_train as above; k400_config and sthv2_config '
        f'are the training pipelines of `{K400_CONFIG}` ({config_sampling(K400_CONFIG)}) and '
        f'`{STHV2_CONFIG}` (8 segment-sampled frames, RandAugment, RandomErasing) as shipped '
        '(PyAV). "disk" is the mean bytes per video (for frames: the folder\'s files); PSNR '
        'is over every pixel of every frame against the downloaded video\'s decoded frames; '
        '"same frames" says whether every clip sampled the same frame indices as from the '
        'downloaded videos (checked on every run; a difference stops the script). ' +
        index_cache_text(cache_mb),
        '',
        '| pipeline | data | clips/s per worker | (range) | (wall) | decode ms/clip | '
        'augment ms/clip | format ms/clip | disk per video | PSNR (dB) | same frames |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for name, form, rate, spread, wall, stages, size, quality, same in rows:
        lines.append(f"| {name} | {form} | {rate:.1f} | {spread[0]:.1f}-{spread[1]:.1f} | "
                     f"{wall:.1f} | {1e3 * stages.get('decode', 0):.1f} | "
                     f"{1e3 * stages.get('augment', 0):.1f} | "
                     f"{1e3 * stages.get('format', 0):.1f} | {size / 1e6:.2f} MB | "
                     f"{'-' if quality is None else f'{quality:.1f}'} | "
                     f"{'yes' if same else 'NO'} |")
    lines.append('')
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == name]
        base = next((r for r in mine if r[1] == 'downloaded'), None)
        best = max(mine, key=lambda r: r[2])
        text = f'- {name}: fastest {best[1]} ({best[2]:.1f} clips/s per worker'
        if base is not None and best is not base:
            text += f', {best[2] / base[2]:.1f}x the downloaded videos\' {base[2]:.1f}'
        text += ')'
        if name in TARGETS:
            met = [r[1] for r in mine if r[2] >= TARGETS[name]]
            text += (f'; target {TARGETS[name]:.1f}: met by {", ".join(met)}' if met else
                     f'; target {TARGETS[name]:.1f}: not met')
        lines.append(text + '.')
    lines.append('')
    return '\n'.join(lines)


def update_doc(path, section):
    """Replace the section of ``path`` whose heading is ``section``'s first line (added at
    the end if there is none)."""
    text = open(path).read() if osp.isfile(path) else '# Benchmarks\n\n'
    heading = section.split('\n', 1)[0]
    start = text.find(heading + '\n')
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
    parser.add_argument('--backends', nargs='*', default=list(BACKENDS), choices=list(BACKENDS),
                        help='decoders compared on the downloaded videos ("Data pipeline"); '
                        'none: skip that section')
    names = ['k400_train', 'sthv2_train', 'k400_config']
    parser.add_argument('--pipelines', nargs='+', default=names, choices=names)
    prepared = ['k400_train', 'k400_config', 'sthv2_config']
    parser.add_argument('--forms', nargs='*', default=list(FORMS), choices=list(FORMS),
                        help='data forms of "Data pipeline on prepared data" (none: skip it)')
    parser.add_argument('--prepared-pipelines', nargs='+', default=prepared, choices=prepared)
    parser.add_argument('--index-cache-mb', type=float, default=None,
                        help='PyAVInit index_cache_mb of the PyAV rows (default: its default); '
                        '0 demuxes every video at every opening, as in an epoch over a dataset '
                        'whose indexes do not fit')
    parser.add_argument('--update-doc', help='markdown file whose "Data pipeline" sections '
                        'are replaced by the results')
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
    command = 'PYTHONPATH=. python tools/analysis/bench_processing.py ' + ' '.join(
        a for a in (argv if argv is not None else sys.argv[1:]))
    sections = []
    rows = []
    for name in args.pipelines if args.backends else []:
        for backend in args.backends:
            steps = config_pipeline(backend) if name == 'k400_config' else pipelines(backend)[name]
            steps = with_index_cache(steps, args.index_cache_mb)
            rate, spread, wall, stages, _ = timed(steps, video_samples(files), args.passes,
                                                  args.repeats)
            rows.append((name, backend, rate, spread, wall, stages))
            print(f'{name:12s} {backend:7s} {rate:6.1f} clips/CPU-s '
                  f'({spread[0]:.1f}-{spread[1]:.1f}; {wall:5.1f} wall)  ' + '  '.join(
                      f'{k} {1e3 * v:.1f} ms' for k, v in sorted(stages.items())), flush=True)
    if rows:
        sections.append(render(rows, env, command.strip(), args.index_cache_mb))

    # the downloaded videos are the reference of the frame indices and the PSNR
    forms = ['downloaded'] + [f for f in args.forms if f != 'downloaded'] if args.forms else []
    data = {form: prepare_form(args.video_dir, files, form) for form in forms}
    quality = {form: None if form == 'downloaded' else psnr(data['downloaded'][0], data[form][0])
               for form in forms}
    rows, mismatched = [], []
    for name in args.prepared_pipelines if forms else []:
        steps = config_pipeline('pyav', CONFIGS[name]) if name in CONFIGS else \
            pipelines('pyav')[name]
        steps = with_index_cache(steps, args.index_cache_mb)
        reference = None
        for form in forms:
            samples, size = data[form]
            form_steps = rawframe_pipeline(steps) if isinstance(FORMS[form], str) else steps
            rate, spread, wall, stages, indices = timed(form_steps, samples, args.passes,
                                                        args.repeats)
            reference = indices[0] if reference is None else reference
            same = same_indices(indices, reference)
            if not same:
                mismatched.append(f'{name} on {form}')
            rows.append((name, form, rate, spread, wall, stages, size, quality[form], same))
            print(f'{name:12s} {form:10s} {rate:6.1f} clips/CPU-s '
                  f'({spread[0]:.1f}-{spread[1]:.1f}; {wall:5.1f} wall)  ' + '  '.join(
                      f'{k} {1e3 * v:.1f} ms' for k, v in sorted(stages.items())) +
                  f'  {size / 1e6:.2f} MB/video  PSNR {quality[form] or 0:.1f}  same frames '
                  f'{same}', flush=True)
    if rows:
        sections.append(render_prepared(rows, env, command.strip(), args.index_cache_mb))
    for section in sections:
        print('\n' + section)
    if mismatched:
        raise SystemExit('ERROR: these rows sampled other frame indices than the downloaded '
                         f'videos: {", ".join(mismatched)}. Their clips/s compare different '
                         'work; the document was not updated.')
    if args.update_doc:
        for section in sections:
            update_doc(args.update_doc, section)


if __name__ == '__main__':
    sys.exit(run_tool(main))
