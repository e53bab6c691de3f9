"""A synthetic video benchmark that only temporal modelling can solve.

Each clip shows two objects on a random background: one moves horizontally, the other
vertically, both wrapping around the frame edges. The class is the pair of directions:

    0: right & down    1: right & up    2: left & down    3: left & up

Why no single frame, and not the average of the frames, can tell the classes apart:

* positions wrap around and start uniformly at random, so in every frame each object's
  position is uniform whatever the direction;
* shapes, colours, sizes, speeds, the background and which object is drawn on top are drawn
  independently of the class, and a frame does not say which object is the horizontal mover;
* the average of the frames is the sum of each object's smear along its own axis, which is
  the same whichever way the object travels.

The sign of each motion is visible only in the order of the frames. A frame-wise image model
averaged over time (AIM's space-only baseline) therefore sits at chance, while temporal
adaptation can solve the task.

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

CLASSES = ('right & down', 'right & up', 'left & down', 'left & up')
SHAPES = ('circle', 'square', 'triangle', 'diamond', 'cross', 'ring')
_SUBPIX = 4  # cv2 drawing with 4 fractional bits: sub-pixel positions, smooth motion


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
    objects: List[ObjectSpec]  # in drawing order


def _random_colour(rng: np.random.Generator, avoid: np.ndarray) -> Tuple[int, int, int]:
    """A saturated colour clearly different from the background colours ``avoid``."""
    while True:
        colour = rng.integers(0, 256, size=3)
        if colour.max() - colour.min() > 80 and np.abs(avoid - colour).sum(axis=1).min() > 150:
            return tuple(int(c) for c in colour)


def sample_clip_spec(rng: np.random.Generator, label: int, size: int = 64,
                     num_frames: int = 16) -> ClipSpec:
    """Draw every nuisance factor at random, independently of ``label``."""
    if not 0 <= label < len(CLASSES):
        raise ValueError(f'label must be in [0, {len(CLASSES)}), got {label}')
    sign_x = 1.0 if label in (0, 1) else -1.0  # right or left
    sign_y = 1.0 if label in (0, 2) else -1.0  # down (image y grows downwards) or up
    bg = rng.integers(0, 256, size=(2, 3))
    background = (tuple(int(c) for c in bg[0]), tuple(int(c) for c in bg[1]),
                  float(rng.uniform(0, np.pi)))
    objects = []
    for axis, sign in ((0, sign_x), (1, sign_y)):
        radius = float(rng.uniform(0.09, 0.15) * size)
        speed = float(rng.uniform(0.025, 0.045) * size)
        start = [float(rng.uniform(0, size)), float(rng.uniform(0, size))]
        velocity = [0.0, 0.0]
        velocity[axis] = sign * speed
        objects.append(
            ObjectSpec(shape=str(rng.choice(SHAPES)), colour=_random_colour(rng, bg),
                       radius=radius, start=tuple(start), velocity=tuple(velocity)))
    if rng.random() < 0.5:
        objects.reverse()
    return ClipSpec(label=label, size=size, num_frames=num_frames, background=background,
                    objects=objects)


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


def _draw(img: np.ndarray, obj: ObjectSpec, x: float, y: float) -> None:
    scale = 1 << _SUBPIX
    r = obj.radius
    # wrap-around: draw the copies that overlap the frame from the neighbouring tiles
    for dx in (-img.shape[1], 0, img.shape[1]):
        for dy in (-img.shape[0], 0, img.shape[0]):
            cx, cy = x + dx, y + dy
            if not (-r <= cx <= img.shape[1] + r and -r <= cy <= img.shape[0] + r):
                continue
            centre = (int(round(cx * scale)), int(round(cy * scale)))
            if obj.shape == 'circle':
                cv2.circle(img, centre, int(r * scale), obj.colour, -1, cv2.LINE_AA, _SUBPIX)
            elif obj.shape == 'ring':
                cv2.circle(img, centre, int(0.75 * r * scale), obj.colour, max(2, int(r * 0.45)),
                           cv2.LINE_AA, _SUBPIX)
            else:
                poly = _polygon(obj.shape, cx * scale, cy * scale, r * scale)
                cv2.fillPoly(img, [poly], obj.colour, cv2.LINE_AA, _SUBPIX)


def render_clip(spec: ClipSpec) -> np.ndarray:
    """The clip as uint8 RGB frames, shape (num_frames, size, size, 3)."""
    background = _background(spec)
    frames = np.empty((spec.num_frames, spec.size, spec.size, 3), np.uint8)
    for t in range(spec.num_frames):
        img = background.copy()
        for obj in spec.objects:
            x = (obj.start[0] + t * obj.velocity[0]) % spec.size
            y = (obj.start[1] + t * obj.velocity[1]) % spec.size
            _draw(img, obj, x, y)
        frames[t] = img
    return frames


def write_mp4(path: str, frames: np.ndarray, fps: int = 16, crf: int = 18) -> None:
    """Encode uint8 RGB frames (T, H, W, 3) as h264 mp4 (yuv420p) with PyAV, atomically."""
    import av
    tmp = f'{path}.tmp.mp4'
    with av.open(tmp, mode='w') as container:
        stream = container.add_stream('libx264', rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = 'yuv420p'
        stream.options = {'crf': str(crf), 'preset': 'veryfast'}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)


def generate_dataset(root: str, num_train: int = 400, num_val: int = 120, size: int = 64,
                     num_frames: int = 16, seed: int = 0, fps: int = 16) -> Dict[str, str]:
    """Write ``root/videos/{train,val}/*.mp4``, ``root/{train,val}.txt`` (``path label``
    lines, paths relative to ``root/videos``), ``root/label_map.txt`` (one class name per
    line) and ``root/meta.json`` (the generation arguments and every clip's spec).

    Classes are balanced in both splits; the same arguments always give the same files.
    Returns the paths written.
    """
    os.makedirs(osp.join(root, 'videos'), exist_ok=True)
    rng = np.random.default_rng(seed)
    specs = {}
    for split, count in (('train', num_train), ('val', num_val)):
        os.makedirs(osp.join(root, 'videos', split), exist_ok=True)
        labels = np.arange(count) % len(CLASSES)
        rng.shuffle(labels)
        lines = []
        for i, label in enumerate(labels):
            spec = sample_clip_spec(rng, int(label), size, num_frames)
            rel = f'{split}/{split}_{i:05d}.mp4'
            write_mp4(osp.join(root, 'videos', rel), render_clip(spec), fps=fps)
            lines.append(f'{rel} {label}')
            specs[rel] = asdict(spec)
        with open(osp.join(root, f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    with open(osp.join(root, 'label_map.txt'), 'w') as f:
        f.write('\n'.join(CLASSES) + '\n')
    meta = dict(num_train=num_train, num_val=num_val, size=size, num_frames=num_frames,
                seed=seed, fps=fps, classes=list(CLASSES), clips=specs)
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump(meta, f)
    return dict(videos=osp.join(root, 'videos'), train=osp.join(root, 'train.txt'),
                val=osp.join(root, 'val.txt'), label_map=osp.join(root, 'label_map.txt'))
