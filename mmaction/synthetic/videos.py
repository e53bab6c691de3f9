"""A synthetic video benchmark that only temporal modelling can solve.

Each clip shows one object (or, with ``num_lanes=2``, one object in each of two horizontal
lanes) moving left or right and wrapping around at the frame edges. The class is the
direction of motion (of each lane's object):

    one lane:   0: right   1: left
    two lanes:  0: top right, bottom right   1: top right, bottom left
                2: top left, bottom right    3: top left, bottom left

Why no single frame, and not the average of the frames, can tell the classes apart:

* positions wrap around and start uniformly at random, so in every frame each object's
  horizontal position is uniform whichever way it travels;
* shapes, colours, sizes, speeds, heights within the lane and the background are drawn
  independently of the class;
* the average of the frames is the sum of each object's smear along its lane, which is the
  same whichever way the object travels.

The direction of each object is visible only in the order of the frames. A frame-wise image
model averaged over time (AIM's space-only baseline) therefore sits at chance, while
temporal adaptation can solve the task.

:func:`render_clip` draws one clip as a uint8 array; :func:`generate_dataset` writes h264 mp4
files through PyAV with annotation lists in our ``path label`` format and a label map.
"""
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from mmaction.utils.fileio import atomic_write, write_text_atomic

LANE_NAMES = {1: ('', ), 2: ('top ', 'bottom ')}
SHAPES = ('circle', 'square', 'triangle', 'diamond', 'cross', 'ring')
_SUBPIX = 4  # cv2 drawing with 4 fractional bits: sub-pixel positions, smooth motion


def class_names(num_lanes: int = 1) -> Tuple[str, ...]:
    """Class names, index = label: e.g. ``('right', 'left')`` for one lane."""
    if num_lanes not in LANE_NAMES:
        raise ValueError(f'num_lanes must be 1 or 2, got {num_lanes}')
    return tuple(', '.join(f'{lane}{"left" if (label >> (num_lanes - 1 - i)) & 1 else "right"}'
                           for i, lane in enumerate(LANE_NAMES[num_lanes]))
                 for label in range(2**num_lanes))


def lane_directions(label: int, num_lanes: int = 1) -> Tuple[int, ...]:
    """+1 (right) or -1 (left) for each lane, top first: bit ``num_lanes - 1 - i`` of
    ``label`` set means lane ``i`` moves left."""
    if not 0 <= label < 2**num_lanes:
        raise ValueError(f'label must be in [0, {2**num_lanes}) for {num_lanes} lane(s), '
                         f'got {label}')
    return tuple(-1 if (label >> (num_lanes - 1 - i)) & 1 else 1 for i in range(num_lanes))


@dataclass
class ObjectSpec:
    shape: str
    colour: Tuple[int, int, int]
    radius: float
    start: Tuple[float, float]  # (x, y) in pixels at frame 0
    velocity: Tuple[float, float]  # pixels per frame


@dataclass
class ClipSpec:
    label: int
    size: int
    num_frames: int
    background: Tuple[Tuple[int, int, int], Tuple[int, int, int], float]  # colours, angle
    objects: List[ObjectSpec]  # one per lane, top first


def _random_colour(rng: np.random.Generator, avoid: np.ndarray) -> Tuple[int, int, int]:
    """A saturated colour clearly different from the background colours ``avoid``."""
    while True:
        colour = rng.integers(0, 256, size=3)
        if colour.max() - colour.min() > 80 and np.abs(avoid - colour).sum(axis=1).min() > 150:
            return tuple(int(c) for c in colour)


def sample_clip_spec(rng: np.random.Generator, label: int, size: int = 64,
                     num_frames: int = 16, num_lanes: int = 1,
                     radius: Tuple[float, float] = (0.09, 0.15),
                     speed: Tuple[float, float] = (0.025, 0.045)) -> ClipSpec:
    """Draw every nuisance factor at random, independently of ``label``.

    ``radius`` and ``speed`` (per frame) are ranges as fractions of the frame side.
    """
    directions = lane_directions(label, num_lanes)
    bg = rng.integers(0, 256, size=(2, 3))
    background = (tuple(int(c) for c in bg[0]), tuple(int(c) for c in bg[1]),
                  float(rng.uniform(0, np.pi)))
    lane_height = size / num_lanes
    objects = []
    for lane, sign in enumerate(directions):
        r = float(rng.uniform(*radius) * size)
        v = float(rng.uniform(*speed) * size)
        margin = min(r, lane_height / 2)
        y = lane * lane_height + float(rng.uniform(margin, lane_height - margin))
        objects.append(
            ObjectSpec(shape=str(rng.choice(SHAPES)), colour=_random_colour(rng, bg), radius=r,
                       start=(float(rng.uniform(0, size)), y), velocity=(sign * v, 0.0)))
    return ClipSpec(label=label, size=size, num_frames=num_frames, background=background,
                    objects=objects)


def clip_spec_from_dict(record: dict) -> ClipSpec:
    """A :class:`ClipSpec` from its ``dataclasses.asdict`` form, as ``meta.json`` stores every
    clip's (:func:`generate_dataset`)."""
    record = dict(record)
    objects = [ObjectSpec(**dict(o, colour=tuple(o['colour']), start=tuple(o['start']),
                                 velocity=tuple(o['velocity'])))
               for o in record.pop('objects')]
    background = record.pop('background')
    return ClipSpec(**record, background=(tuple(background[0]), tuple(background[1]),
                                          float(background[2])), objects=objects)


def _background(spec: ClipSpec) -> np.ndarray:
    (c0, c1, angle), s = spec.background, spec.size
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / max(s - 1, 1)
    t = np.clip(np.cos(angle) * xx + np.sin(angle) * yy, 0, 1)[..., None]
    return ((1 - t) * np.asarray(c0, np.float32) + t * np.asarray(c1, np.float32)).astype(np.uint8)


def _polygon(shape: str, cx: float, cy: float, r: float) -> Optional[np.ndarray]:
    if shape == 'square':
        pts = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        pts = [(0.8 * x, 0.8 * y) for x, y in pts]
    elif shape == 'triangle':
        pts = [(0, -1), (0.87, 0.5), (-0.87, 0.5)]
    elif shape == 'diamond':
        pts = [(0, -1), (0.7, 0), (0, 1), (-0.7, 0)]
    elif shape == 'cross':
        a = 0.33
        pts = [(-a, -1), (a, -1), (a, -a), (1, -a), (1, a), (a, a), (a, 1), (-a, 1), (-a, a),
               (-1, a), (-1, -a), (-a, -a)]
    else:
        return None
    return np.round([(cx + r * x, cy + r * y) for x, y in pts]).astype(np.int32)


def _draw(img: np.ndarray, obj: ObjectSpec, x: float, y: float,
          colour: Optional[Tuple[int, ...]] = None) -> None:
    colour = obj.colour if colour is None else colour
    scale = 1 << _SUBPIX
    r = obj.radius
    # horizontal wrap-around: also draw the copy entering from the other edge
    for cx in (x - img.shape[1], x, x + img.shape[1]):
        if not -r <= cx <= img.shape[1] + r:
            continue
        centre = (int(round(cx * scale)), int(round(y * scale)))
        if obj.shape == 'circle':
            cv2.circle(img, centre, int(r * scale), colour, -1, cv2.LINE_AA, _SUBPIX)
        elif obj.shape == 'ring':
            cv2.circle(img, centre, int(0.75 * r * scale), colour, max(2, int(r * 0.45)),
                       cv2.LINE_AA, _SUBPIX)
        else:
            poly = _polygon(obj.shape, cx * scale, y * scale, r * scale)
            cv2.fillPoly(img, [poly], colour, cv2.LINE_AA, _SUBPIX)


def object_position(spec: ClipSpec, obj: ObjectSpec, t: int) -> Tuple[float, float]:
    """Centre (x, y) in pixels of ``obj`` in frame ``t`` (x wrapped into the frame)."""
    return ((obj.start[0] + t * obj.velocity[0]) % spec.size,
            obj.start[1] + t * obj.velocity[1])


def render_clip(spec: ClipSpec) -> np.ndarray:
    """The clip as uint8 RGB frames, shape (num_frames, size, size, 3)."""
    background = _background(spec)
    frames = np.empty((spec.num_frames, spec.size, spec.size, 3), np.uint8)
    for t in range(spec.num_frames):
        img = background.copy()
        for obj in spec.objects:
            _draw(img, obj, *object_position(spec, obj, t))
        frames[t] = img
    return frames


def object_masks(spec: ClipSpec) -> np.ndarray:
    """Where :func:`render_clip` draws an object: (num_frames, size, size) bool.

    The shapes are drawn as in the clip, at the same sub-pixel positions (with the copy that
    wraps around the edge), in white on black; a pixel is in the mask when at least half of
    it is covered (the clip's anti-aliased edge at 50%).
    """
    masks = np.zeros((spec.num_frames, spec.size, spec.size), np.uint8)
    for t in range(spec.num_frames):
        for obj in spec.objects:
            _draw(masks[t], obj, *object_position(spec, obj, t), colour=(255, ))
    return masks >= 128


def continue_clip(spec: ClipSpec, label: int, num_frames: int) -> ClipSpec:
    """The next ``num_frames`` of ``spec``'s scene with the motion of ``label``: the same
    background and objects, each starting where it is after ``spec``'s last frame and moving
    at its speed in the direction ``label`` gives its lane. Rendering ``spec``,
    ``continue_clip(spec, ...)``, ... one after the other gives a long video whose action
    changes without a cut (``docs/demos.md``)."""
    directions = lane_directions(label, len(spec.objects))
    objects = []
    for obj, sign in zip(spec.objects, directions):
        x, y = object_position(spec, obj, spec.num_frames)
        speed = float(np.hypot(*obj.velocity))
        objects.append(ObjectSpec(shape=obj.shape, colour=obj.colour, radius=obj.radius,
                                  start=(x, y), velocity=(sign * speed, 0.0)))
    return ClipSpec(label=label, size=spec.size, num_frames=num_frames,
                    background=spec.background, objects=objects)


def write_mp4(path: str, frames: np.ndarray, fps: int = 16, crf: int = 18) -> None:
    """Encode uint8 RGB frames (T, H, W, 3) as h264 mp4 (yuv420p) with PyAV, atomically.

    One encoder thread and no macroblock tree, so the same frames always give the same file.
    """
    import av
    with atomic_write(path) as tmp, av.open(tmp, mode='w', format='mp4') as container:
        stream = container.add_stream('libx264', rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = 'yuv420p'
        # libx264's macroblock-tree rate control reads memory it never wrote (the same frames
        # gave different files under MALLOC_PERTURB_=0/1/165, or after torch had used the
        # heap): without it the file depends on the pixels alone
        stream.options = {'crf': str(crf), 'preset': 'veryfast', 'threads': '1',
                          'x264-params': 'no-mbtree=1'}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _clip_rng(seed: int, split: str, index: int) -> np.random.Generator:
    # one generator per clip: the files do not depend on the order (or process) they are made in
    return np.random.default_rng([seed, {'train': 0, 'val': 1}[split], index])


def _write_clip(job) -> dict:
    path, split, index, label, kw = job
    spec = sample_clip_spec(_clip_rng(kw['seed'], split, index), label, kw['size'],
                            kw['num_frames'], kw['num_lanes'])
    write_mp4(path, render_clip(spec), fps=kw['fps'])
    return asdict(spec)


def generate_dataset(root: str, num_train: int = 2000, num_val: int = 200, size: int = 64,
                     num_frames: int = 16, num_lanes: int = 1, seed: int = 0, fps: int = 16,
                     workers: int = 1, progress: bool = False) -> Dict[str, str]:
    """Write the benchmark under ``root``.

    * ``videos/{train,val}/*.mp4``: h264 clips, ``num_frames`` frames of ``size`` x ``size``;
    * ``train.txt``, ``val.txt``: ``relative/path.mp4 label`` lines (relative to ``videos/``),
      the format of :class:`~mmaction.datasets.VideoDataset`;
    * ``label_map.txt``: class names, one per line, line ``i`` naming label ``i``;
    * ``meta.json``: the arguments and every clip's drawn parameters.

    Classes are balanced in both splits. The same arguments give the same videos, whatever
    ``workers`` (processes encoding in parallel). Returns the paths written.
    """
    names = class_names(num_lanes)
    kw = dict(size=size, num_frames=num_frames, num_lanes=num_lanes, seed=seed, fps=fps)
    jobs, lists = [], {}
    for split, count in (('train', num_train), ('val', num_val)):
        os.makedirs(osp.join(root, 'videos', split), exist_ok=True)
        labels = np.arange(count) % len(names)
        np.random.default_rng([seed, 2, len(split)]).shuffle(labels)
        lists[split] = []
        for i, label in enumerate(labels):
            rel = f'{split}/{split}_{i:05d}.mp4'
            jobs.append((osp.join(root, 'videos', rel), split, i, int(label), kw))
            lists[split].append(f'{rel} {label}')

    if workers > 1:
        from multiprocessing import get_context

        from mmaction.utils.threads import single_thread
        with get_context('spawn').Pool(workers, initializer=single_thread) as pool:
            specs = list(_progress(pool.imap(_write_clip, jobs, chunksize=8), len(jobs), progress))
    else:
        specs = list(_progress(map(_write_clip, jobs), len(jobs), progress))

    for split, lines in lists.items():
        write_text_atomic(osp.join(root, f'{split}.txt'), '\n'.join(lines) + '\n')
    write_text_atomic(osp.join(root, 'label_map.txt'), '\n'.join(names) + '\n')
    meta = dict(kw, num_train=num_train, num_val=num_val, classes=list(names),
                clips={osp.relpath(job[0], osp.join(root, 'videos')): spec
                       for job, spec in zip(jobs, specs)})
    write_text_atomic(osp.join(root, 'meta.json'), json.dumps(meta))
    return dict(videos=osp.join(root, 'videos'), train=osp.join(root, 'train.txt'),
                val=osp.join(root, 'val.txt'), label_map=osp.join(root, 'label_map.txt'))


def _progress(iterable, total, show):
    if not show:
        yield from iterable
        return
    from mmengine.utils import ProgressBar
    bar = ProgressBar(total)
    for item in iterable:
        bar.update()
        yield item
    print(flush=True)
