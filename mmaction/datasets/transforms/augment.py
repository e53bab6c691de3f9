"""Geometric and photometric augmentations of uint8 clips.

Every transform here reads ``imgs`` as one uint8 array (num_frames, H, W, 3) and
``img_shape`` (H, W) (as mmaction2 0.x, the first frame's shape when the results have no
``img_shape``), and writes them back. Random parameters are drawn once per call (per clip),
so all frames of a clip get the same crop, flip, jitter, erase; the one exception is 0.x's
:class:`ColorJitter` with ``color_space_aug=True``, which tosses its coins per frame as 0.x
does. Draws use numpy's global generator (:class:`MultiGroupCrop`: Python's ``random``, as
0.x), both seeded per data-loader worker.

Copies are kept to the minimum: crops and flips return views of the decoded array; resizes
write each frame once into a fresh array; the one copy that makes the clip contiguous happens
in :class:`FormatShape`.
"""
import math
import random
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmaction.registry import TRANSFORMS
from .base import BaseTransform

INTERPOLATIONS = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
    'lanczos': cv2.INTER_LANCZOS4,
}


def frames_of(results: dict) -> np.ndarray:
    """``results['imgs']`` as one (N, H, W, C) uint8 array (a list of frames is stacked)."""
    imgs = results['imgs']
    if not isinstance(imgs, np.ndarray):
        imgs = np.stack(imgs)
    if imgs.ndim != 4 or imgs.dtype != np.uint8:
        raise ValueError(f"results['imgs'] must be uint8 frames (N, H, W, C); got "
                         f'{imgs.dtype} {imgs.shape}')
    return imgs


def resize_frames(imgs: np.ndarray, width: int, height: int, interpolation: int) -> np.ndarray:
    """Every frame resized to (height, width), written once into a new contiguous array."""
    out = np.empty((imgs.shape[0], height, width, imgs.shape[3]), dtype=imgs.dtype)
    for src, dst in zip(imgs, out):
        cv2.resize(src, (width, height), dst=dst, interpolation=interpolation)
    return out


def _no_lazy(name: str, lazy: bool) -> None:
    if lazy:
        raise ValueError(f'{name}(lazy=True) is not needed here: crops and flips are already '
                         'free views and every resize is a single pass. Drop `lazy`.')


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _pair(value, name: str) -> Tuple[int, int]:
    """An int size or a (w, h) pair."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise TypeError(f'{name} must be an int or a (w, h) pair, got {value!r}')


def image_shape(results: dict) -> Tuple[int, int]:
    """``results['img_shape']``, or, as mmaction2 0.x, the (H, W) of the first frame when the
    results have none (a pipeline that starts from ``imgs``)."""
    if 'img_shape' in results:
        return results['img_shape']
    if 'imgs' not in results:
        raise KeyError("the results have neither 'img_shape' nor 'imgs': put a decoder "
                       '(PyAVDecode, DecordDecode, RawFrameDecode ...) before this step')
    shape = tuple(int(v) for v in np.shape(results['imgs'][0])[:2])
    results['img_shape'] = shape
    return shape


def _crop(results: dict, imgs: np.ndarray, x1: int, y1: int, w: int, h: int) -> dict:
    results['imgs'] = imgs[:, y1:y1 + h, x1:x1 + w]
    results['crop_bbox'] = np.array([x1, y1, x1 + w, y1 + h])
    results['img_shape'] = (h, w)
    return results


def _check_fits(name: str, crop_w: int, crop_h: int, img_h: int, img_w: int) -> None:
    if crop_w > img_w or crop_h > img_h:
        raise ValueError(f'{name}: crop (w, h)=({crop_w}, {crop_h}) is larger than the frames '
                         f'(w, h)=({img_w}, {img_h}); resize first (e.g. Resize(scale=(-1, '
                         f'{max(crop_w, crop_h)})))')


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resize every frame (mmaction2 semantics).

    Args:
        scale: a float factor; a (w, h) pair; with ``keep_ratio``, a pair bounding the long
            and short edges, where ``(-1, 256)`` means "short edge 256".
        keep_ratio: keep the aspect ratio (new size ``int(w * f + 0.5), int(h * f + 0.5)``).
        interpolation: ``'bilinear'`` (default), ``'nearest'``, ``'bicubic'``, ``'area'``,
            ``'lanczos'``.

    Reads/writes ``imgs``, ``img_shape`` (the frames' shape when absent); writes
    ``keep_ratio``, ``scale_factor`` (cumulative (w, h) factors). A resize to the current
    size does nothing.
    """

    def __init__(self, scale, keep_ratio: bool = True, interpolation: str = 'bilinear',
                 lazy: bool = False):
        _no_lazy('Resize', lazy)
        if isinstance(scale, float):
            if scale <= 0:
                raise ValueError(f'Resize scale must be positive, got {scale}')
            if not keep_ratio:
                raise ValueError('Resize with a scale factor needs keep_ratio=True; give '
                                 'scale=(w, h) to resize to a fixed size')
            scale = float(scale)
        elif isinstance(scale, (tuple, list)) and len(scale) == 2:
            scale = tuple(scale)
            if min(scale) == -1:
                if not keep_ratio:
                    raise ValueError(f'Resize(scale={scale}) with -1 needs keep_ratio=True')
                scale = (np.inf, max(scale))
            elif min(scale) <= 0:
                raise ValueError(f'Resize scale must be positive, got {scale}')
        else:
            raise TypeError(f'Resize scale must be a float factor or a (w, h) pair, got '
                            f'{scale!r}')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'interpolation must be one of {sorted(INTERPOLATIONS)}, got '
                             f'{interpolation!r}')
        self.scale = scale
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation

    def _new_size(self, img_w: int, img_h: int) -> Tuple[int, int]:
        if not self.keep_ratio:
            return int(self.scale[0]), int(self.scale[1])
        if isinstance(self.scale, float):
            factor = self.scale
        else:
            factor = min(max(self.scale) / max(img_h, img_w), min(self.scale) / min(img_h, img_w))
        return int(img_w * factor + 0.5), int(img_h * factor + 0.5)

    def transform(self, results: dict) -> dict:
        img_h, img_w = image_shape(results)
        new_w, new_h = self._new_size(img_w, img_h)
        factor = np.array([new_w / img_w, new_h / img_h], dtype=np.float32)
        results['scale_factor'] = results.get('scale_factor', np.ones(2, np.float32)) * factor
        results['keep_ratio'] = self.keep_ratio
        if (new_h, new_w) != (img_h, img_w):
            results['imgs'] = resize_frames(frames_of(results), new_w, new_h,
                                            INTERPOLATIONS[self.interpolation])
        results['img_shape'] = (new_h, new_w)
        return results


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Crop a random area fraction and aspect ratio (Inception-style); no resize.

    Up to 10 draws of area in ``area_range`` (fraction of the frame) and log-uniform aspect
    ratio in ``aspect_ratio_range`` (w/h); the first that fits is used, else the centred
    square of the short side.

    Reads ``imgs`` and ``img_shape`` (or the frames' shape); writes ``imgs`` (a view),
    ``img_shape`` and ``crop_bbox`` (x1, y1, x2, y2).
    """

    def __init__(self, area_range: Sequence[float] = (0.08, 1.0),
                 aspect_ratio_range: Sequence[float] = (3 / 4, 4 / 3), lazy: bool = False):
        _no_lazy('RandomResizedCrop', lazy)
        if not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(f'area_range must satisfy 0 < min <= max <= 1, got {area_range}')
        if not 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise ValueError(f'aspect_ratio_range must satisfy 0 < min <= max, got '
                             f'{aspect_ratio_range}')
        self.area_range = tuple(area_range)
        self.aspect_ratio_range = tuple(aspect_ratio_range)

    @staticmethod
    def get_crop_bbox(img_shape, area_range, aspect_ratio_range, max_attempts: int = 10):
        img_h, img_w = img_shape
        log_ratios = np.log(np.asarray(aspect_ratio_range, dtype=np.float64))
        ratios = np.exp(np.random.uniform(*log_ratios, size=max_attempts))
        areas = np.random.uniform(*area_range, size=max_attempts) * img_h * img_w
        widths = np.round(np.sqrt(areas * ratios)).astype(np.int64)
        heights = np.round(np.sqrt(areas / ratios)).astype(np.int64)
        for w, h in zip(widths, heights):
            if h <= img_h and w <= img_w:
                x1 = np.random.randint(0, img_w - w + 1)
                y1 = np.random.randint(0, img_h - h + 1)
                return int(x1), int(y1), int(w), int(h)
        side = min(img_h, img_w)
        return (img_w - side) // 2, (img_h - side) // 2, side, side

    def transform(self, results: dict) -> dict:
        x1, y1, w, h = self.get_crop_bbox(image_shape(results), self.area_range,
                                          self.aspect_ratio_range)
        return _crop(results, frames_of(results), x1, y1, w, h)


@TRANSFORMS.register_module()
class MultiScaleCrop(BaseTransform):
    """Crop with a random side pair from ``scales`` of the short edge (TSN-style); no resize.

    Candidate (w, h) are pairs of ``int(short_edge * s)`` whose scale indices differ by at
    most ``max_wh_scale_gap``; a side within 2 pixels of ``input_size`` snaps to it. The
    crop sits at a random place (``random_crop``) or at one of 5 (or 13) fixed places.

    Reads ``imgs`` and ``img_shape`` (or the frames' shape); writes ``imgs`` (a view),
    ``img_shape`` and ``crop_bbox`` (x1, y1, x2, y2), ``scales``.
    """

    def __init__(self, input_size, scales: Sequence[float] = (1, ), max_wh_scale_gap: int = 1,
                 random_crop: bool = False, num_fixed_crops: int = 5, lazy: bool = False):
        _no_lazy('MultiScaleCrop', lazy)
        if num_fixed_crops not in (5, 13):
            raise ValueError(f'num_fixed_crops must be 5 or 13, got {num_fixed_crops}')
        self.input_size = _pair(input_size, 'input_size')
        self.scales = tuple(scales)
        self.max_wh_scale_gap = max_wh_scale_gap
        self.random_crop = random_crop
        self.num_fixed_crops = num_fixed_crops

    def transform(self, results: dict) -> dict:
        img_h, img_w = image_shape(results)
        sides = [int(min(img_h, img_w) * s) for s in self.scales]
        candidates = [[w, h] for i, h in enumerate(sides) for j, w in enumerate(sides)
                      if abs(i - j) <= self.max_wh_scale_gap]
        crop = candidates[np.random.randint(len(candidates))]
        for k in range(2):
            if abs(crop[k] - self.input_size[k]) < 3:
                crop[k] = self.input_size[k]
        crop_w, crop_h = crop
        _check_fits('MultiScaleCrop', crop_w, crop_h, img_h, img_w)
        if self.random_crop:
            x1 = np.random.randint(0, img_w - crop_w + 1)
            y1 = np.random.randint(0, img_h - crop_h + 1)
        else:
            ws, hs = (img_w - crop_w) // 4, (img_h - crop_h) // 4
            grid = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2)]
            if self.num_fixed_crops == 13:
                grid += [(0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1), (1, 3), (3, 3)]
            gx, gy = grid[np.random.randint(len(grid))]
            x1, y1 = gx * ws, gy * hs
        results['scales'] = self.scales
        return _crop(results, frames_of(results), int(x1), int(y1), crop_w, crop_h)


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """A random ``size`` x ``size`` crop (mmaction2 semantics: offset drawn from
    ``[0, img - size)``, ``y1`` first, so the far edge is never touched unless the frame
    equals the size).

    Reads ``imgs`` and ``img_shape`` (or the frames' shape); writes ``imgs`` (a view),
    ``img_shape`` and ``crop_bbox`` (x1, y1, x2, y2).
    """

    def __init__(self, size: int, lazy: bool = False):
        _no_lazy('RandomCrop', lazy)
        if not isinstance(size, int) or size < 1:
            raise TypeError(f'RandomCrop size must be a positive int, got {size!r}')
        self.size = size

    def transform(self, results: dict) -> dict:
        img_h, img_w = image_shape(results)
        _check_fits('RandomCrop', self.size, self.size, img_h, img_w)
        y1 = int(np.random.randint(0, img_h - self.size)) if img_h > self.size else 0
        x1 = int(np.random.randint(0, img_w - self.size)) if img_w > self.size else 0
        return _crop(results, frames_of(results), x1, y1, self.size, self.size)


@TRANSFORMS.register_module()
class CenterCrop(BaseTransform):
    """The centred ``crop_size`` crop (int, or (w, h)).

    Reads ``imgs`` and ``img_shape`` (or the frames' shape); writes ``imgs`` (a view),
    ``img_shape`` and ``crop_bbox`` (x1, y1, x2, y2).
    """

    def __init__(self, crop_size, lazy: bool = False):
        _no_lazy('CenterCrop', lazy)
        self.crop_size = _pair(crop_size, 'crop_size')

    def transform(self, results: dict) -> dict:
        img_h, img_w = image_shape(results)
        crop_w, crop_h = self.crop_size
        _check_fits('CenterCrop', crop_w, crop_h, img_h, img_w)
        return _crop(results, frames_of(results), (img_w - crop_w) // 2, (img_h - crop_h) // 2,
                     crop_w, crop_h)


def _multi_crop(results: dict, imgs: np.ndarray, boxes, crop_w: int, crop_h: int,
                flips: Sequence[bool]) -> dict:
    """Stack several crops (and optional mirrored copies) as extra views, crop-major.

    Writes ``imgs`` (crops * frames, crop_h, crop_w, C), ``img_shape`` and ``crop_bbox``:
    as mmaction2 0.x, one (x1, y1, x2, y2) row per output frame, so row ``i`` is the box of
    ``imgs[i]`` (a mirrored copy has the box it was cut from).
    """
    n = imgs.shape[0]
    out = np.empty((len(boxes) * n, crop_h, crop_w, imgs.shape[3]), dtype=np.uint8)
    for k, ((x1, y1), flip) in enumerate(zip(boxes, flips)):
        crop = imgs[:, y1:y1 + crop_h, x1:x1 + crop_w]
        out[k * n:(k + 1) * n] = crop[:, :, ::-1] if flip else crop
    per_crop = np.array([[x1, y1, x1 + crop_w, y1 + crop_h] for x1, y1 in boxes])
    results['imgs'] = out
    results['crop_bbox'] = np.repeat(per_crop, n, axis=0)
    results['img_shape'] = (crop_h, crop_w)
    return results


class _MultiCropBase(BaseTransform):
    """Several ``crop_size`` crops (int, or (w, h)) of the whole clip, stacked as views."""

    def __init__(self, crop_size):
        self.crop_size = _pair(crop_size, 'crop_size')

    def _clip_and_sizes(self, results: dict):
        """The frames, their (h, w) and the crop's (w, h), once the crop is known to fit."""
        imgs = frames_of(results)
        img_h, img_w = imgs.shape[1:3]
        crop_w, crop_h = self.crop_size
        _check_fits(type(self).__name__, crop_w, crop_h, img_h, img_w)
        return imgs, img_h, img_w, crop_w, crop_h


@TRANSFORMS.register_module()
class ThreeCrop(_MultiCropBase):
    """Three crops along the long side (left/top, right/bottom, middle), as three views.

    The crop must span the frames' full height or full width (resize the short side to the
    crop size first). Frames are ordered crop by crop.

    Reads ``imgs`` (its shape, not ``img_shape``); writes ``imgs``, ``img_shape`` and
    ``crop_bbox`` (one row per output frame, see :func:`_multi_crop`).
    """

    def transform(self, results: dict) -> dict:
        imgs, img_h, img_w, crop_w, crop_h = self._clip_and_sizes(results)
        if crop_h == img_h:
            step = (img_w - crop_w) // 2
            boxes = [(0, 0), (2 * step, 0), (step, 0)]
        elif crop_w == img_w:
            step = (img_h - crop_h) // 2
            boxes = [(0, 0), (0, 2 * step), (0, step)]
        else:
            raise ValueError(f'ThreeCrop: crop (w, h)={self.crop_size} must span the full '
                             f'height or width of the frames (h, w)=({img_h}, {img_w}); put '
                             f'Resize(scale=(-1, {min(crop_w, crop_h)})) before it')
        return _multi_crop(results, imgs, boxes, crop_w, crop_h, [False] * 3)


@TRANSFORMS.register_module()
class TenCrop(_MultiCropBase):
    """Five crops (four corners, centre) and their mirror images, as ten views.

    Order: for each of upper-left, upper-right, lower-left, lower-right, centre: the crop,
    then its horizontal flip.

    Reads ``imgs`` (its shape, not ``img_shape``); writes ``imgs``, ``img_shape`` and
    ``crop_bbox`` (one row per output frame, see :func:`_multi_crop`).
    """

    def transform(self, results: dict) -> dict:
        imgs, img_h, img_w, crop_w, crop_h = self._clip_and_sizes(results)
        ws, hs = (img_w - crop_w) // 4, (img_h - crop_h) // 4
        corners = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]
        boxes = [box for box in corners for _ in range(2)]
        return _multi_crop(results, imgs, boxes, crop_w, crop_h, [False, True] * 5)


@TRANSFORMS.register_module()
class MultiGroupCrop(_MultiCropBase):
    """``groups`` random crops of ``crop_size`` (int, or (w, h)), as ``groups`` views
    (mmaction2 0.x's ``MultiGroupCrop``).

    Each group's offset is drawn as 0.x draws it, from Python's ``random`` module (which the
    data-loader workers seed as they seed numpy): ``x1`` then ``y1``, each uniform over every
    position where the crop fits, both edges included. Frames are ordered group by group.

    Reads ``imgs`` (its shape, not ``img_shape``); writes ``imgs``, ``img_shape`` and
    ``crop_bbox`` (one row per output frame, see :func:`_multi_crop`).
    """

    def __init__(self, crop_size, groups: int):
        # stricter than the other crops, as 0.x's MultiGroupCrop: an int or a tuple of ints
        if not _is_int(crop_size) and not (isinstance(crop_size, tuple) and len(crop_size) == 2
                                           and all(_is_int(v) for v in crop_size)):
            raise TypeError(f'MultiGroupCrop crop_size must be an int or a tuple (w, h) of '
                            f'ints, got {type(crop_size).__name__} {crop_size!r}')
        super().__init__(crop_size)
        if not _is_int(groups):
            raise TypeError(f'MultiGroupCrop groups (the number of random crops, each a view) '
                            f'must be an int, got {type(groups).__name__} {groups!r}')
        if groups < 1:
            raise ValueError(f'MultiGroupCrop groups (the number of random crops, each a view) '
                             f'must be positive, got {groups}')
        self.groups = int(groups)

    def transform(self, results: dict) -> dict:
        imgs, img_h, img_w, crop_w, crop_h = self._clip_and_sizes(results)
        boxes = []
        for _ in range(self.groups):
            x1 = random.randint(0, img_w - crop_w)
            y1 = random.randint(0, img_h - crop_h)
            boxes.append((x1, y1))
        return _multi_crop(results, imgs, boxes, crop_w, crop_h, [False] * self.groups)


def _map_label(label, mapping: Dict[int, int]):
    if isinstance(label, (list, tuple)):
        return type(label)(mapping.get(int(x), int(x)) for x in label)
    if isinstance(label, np.ndarray) and label.ndim > 0:
        return np.array([mapping.get(int(x), int(x)) for x in label])
    return mapping.get(int(label), int(label))


@TRANSFORMS.register_module()
class Flip(BaseTransform):
    """Mirror the clip with probability ``flip_ratio``.

    Args:
        flip_ratio: probability of flipping.
        direction: ``'horizontal'`` or ``'vertical'``.
        flip_label_map: classes that change meaning under a horizontal flip, e.g. SSv2's
            "left to right" <-> "right to left": ``{86: 87, 87: 86, ...}``; the label of a
            flipped clip is mapped through it.

    Reads ``imgs``, ``label``; writes ``imgs`` (a view), ``label``, ``flip``,
    ``flip_direction`` and ``flip_label_map`` (for later steps that flip, see RandAugment).
    """

    def __init__(self, flip_ratio: float = 0.5, direction: str = 'horizontal',
                 flip_label_map: Optional[Dict[int, int]] = None, left_kp=None, right_kp=None,
                 lazy: bool = False):
        _no_lazy('Flip', lazy)
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(f"Flip direction must be 'horizontal' or 'vertical', got "
                             f'{direction!r}')
        if flip_label_map is not None and direction != 'horizontal':
            raise ValueError('flip_label_map applies to horizontal flips only')
        if left_kp is not None or right_kp is not None:
            raise ValueError('Flip(left_kp, right_kp) is for skeleton keypoints, which this '
                             'project does not load')
        self.flip_ratio = flip_ratio
        self.direction = direction
        self.flip_label_map = None if flip_label_map is None else \
            {int(k): int(v) for k, v in dict(flip_label_map).items()}

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.flip_ratio)
        results['flip'] = flip
        results['flip_direction'] = self.direction
        if self.flip_label_map is not None:
            results['flip_label_map'] = self.flip_label_map
            if flip and 'label' in results:
                results['label'] = _map_label(results['label'], self.flip_label_map)
        if flip:
            imgs = frames_of(results)
            results['imgs'] = imgs[:, :, ::-1] if self.direction == 'horizontal' else \
                imgs[:, ::-1]
        return results


#: mmaction2 0.x's default lighting statistics: eigenvalues and eigenvectors (columns) of the
#: covariance of ImageNet's RGB pixels on the 0-255 scale (AlexNet's "PCA lighting").
PCA_EIG_VAL = np.array([55.46, 4.794, 1.148], dtype=np.float32)
PCA_EIG_VEC = np.array([[-0.5675, 0.7192, 0.4009],
                        [-0.5808, -0.0045, -0.8140],
                        [-0.5836, -0.6948, 0.4203]], dtype=np.float32)
#: ITU-R 601 luma weights (the grey level 0.x's saturation step blends towards)
LUMA = np.array([0.299, 0.587, 0.114])
#: RGB -> YIQ and YIQ -> RGB, as 0.x's hue step uses them (rows: Y, I, Q / R, G, B)
RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.321],
                       [0.211, -0.523, 0.311]])
YIQ_TO_RGB = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.107, 1.705]])
#: the arguments of the brightness/contrast/saturation/hue jitter that took 0.x's name later
_BCSH_ARGS = ('brightness', 'contrast', 'saturation', 'hue')


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Float pixel values rounded to the nearest integer and clipped to 0..255."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """mmaction2 0.x's ``ColorJitter``: PCA lighting noise, optionally after a colour-space
    distortion (what AIM's ``vitclip_large_k400.py`` trains with, ``ColorJitter()``).

    Lighting (always): ``alpha`` is drawn from ``N(0, alpha_std)`` for each of the three
    principal components and every pixel of every frame moves by the same RGB offset
    ``offset[c] = sum_k eig_vec[c, k] * alpha[k] * eig_val[k]`` (defaults: ImageNet's
    statistics on the 0-255 scale, :data:`PCA_EIG_VAL` / :data:`PCA_EIG_VEC`).

    With ``color_space_aug=True`` the lighting comes after 0.x's colour-space distortion:
    one brightness shift ``U(-32, 32)``, contrast factor ``U(0.6, 1.4)`` (a plain scale),
    saturation factor ``U(0.6, 1.4)`` (blend with the pixel's luma) and hue angle
    ``pi * U(-18, 18)`` (a rotation of the YIQ chroma plane) are drawn per clip, then a coin
    picks the order (contrast, saturation, hue) or (saturation, hue, contrast); brightness
    comes first. As in 0.x, every frame tosses its own coin for each of the four steps
    (applied when the draw is above 0.5), so frames of one clip may differ.

    Random numbers come from numpy's global generator in 0.x's order: with
    ``color_space_aug`` the four parameters, the order coin, four coins per frame; then the
    three ``alpha``. Seeded alike, it moves the pixels exactly as 0.x does.

    Frames stay uint8: the result is 0.x's float32 value rounded to the nearest integer
    and clipped to 0..255 (0.x left floats, possibly outside 0..255, for ``Normalize``).
    The lighting alone is computed exactly as 0.x computes it (in float32) for each of the
    256 input levels, then rounded; with ``color_space_aug`` the float arithmetic may differ
    from 0.x's in the last bits, so a value within a hair of .5 may round the other way.

    Reads ``imgs``; writes ``imgs`` (new uint8 array), ``eig_val``, ``eig_vec`` (float32),
    ``alpha_std`` and ``color_space_aug``.

    Args:
        color_space_aug: apply the colour-space distortion before the lighting noise.
        alpha_std: standard deviation of the lighting coefficients (0 disables the noise).
        eig_val: 3 eigenvalues, RGB covariance on the 0-255 scale; ``None``: ImageNet's.
        eig_vec: 3x3 eigenvectors, one per column; ``None``: ImageNet's.

    mmaction2's later ``ColorJitter(brightness, contrast, saturation, hue)`` is
    :class:`BrightnessContrastSaturationHueJitter` here.
    """

    def __new__(cls, *args, **kwargs):
        # refuse the later jitter's arguments before __init__ reports them as unknown
        newer = [k for k in _BCSH_ARGS if k in kwargs]
        if newer:
            raise TypeError(
                f'ColorJitter got {newer}: ColorJitter is mmaction2 0.x\'s (and AIM\'s) PCA '
                'lighting jitter, ColorJitter(color_space_aug=False, alpha_std=0.1, '
                'eig_val=None, eig_vec=None). For the brightness/contrast/saturation/hue '
                "jitter of later mmaction2 versions write type='"
                "BrightnessContrastSaturationHueJitter' with the same arguments.")
        return super().__new__(cls)

    def __init__(self, color_space_aug: bool = False, alpha_std: float = 0.1,
                 eig_val: Optional[Sequence[float]] = None,
                 eig_vec: Optional[Sequence[Sequence[float]]] = None):
        if not isinstance(color_space_aug, (bool, np.bool_)):
            raise TypeError(f'ColorJitter color_space_aug must be True or False, got '
                            f'{color_space_aug!r}')
        if isinstance(alpha_std, bool) or not isinstance(alpha_std, (int, float)) or \
                not alpha_std >= 0:
            raise ValueError(f'ColorJitter alpha_std must be a number >= 0 (the spread of the '
                             f'lighting noise; 0.x default 0.1), got {alpha_std!r}')
        self.color_space_aug = bool(color_space_aug)
        self.alpha_std = alpha_std
        self.eig_val = self._matrix('eig_val', eig_val, PCA_EIG_VAL, (3, ))
        self.eig_vec = self._matrix('eig_vec', eig_vec, PCA_EIG_VEC, (3, 3))

    @staticmethod
    def _matrix(name: str, value, default: np.ndarray, shape) -> np.ndarray:
        if value is None:
            return default.copy()
        array = np.asarray(value, dtype=np.float32)
        if array.shape != shape or not np.isfinite(array).all():
            raise ValueError(f'ColorJitter {name} must be {"x".join(map(str, shape))} finite '
                             f'numbers (RGB, 0-255 scale), got {value!r}; leave it None for '
                             "ImageNet's statistics")
        return array

    def _colour_maps(self, num_frames: int):
        """Per frame, the colour-space distortion as an affine map ``rgb @ A + b``."""
        shift = np.random.uniform(-32, 32)
        contrast = np.random.uniform(0.6, 1.4)
        saturation = np.random.uniform(0.6, 1.4)
        angle = np.random.uniform(-18, 18) * np.pi
        later = ('contrast', 'saturation', 'hue') if np.random.rand() > 0.5 else \
            ('saturation', 'hue', 'contrast')
        coins = np.random.rand(num_frames, 4) > 0.5  # 0.x tosses 4 per frame, in this order
        cos, sin = np.cos(angle), np.sin(angle)
        rotate = np.array([[1.0, 0.0, 0.0], [0.0, cos, -sin], [0.0, sin, cos]])
        maps = {
            'contrast': np.eye(3) * contrast,
            # every output channel: saturation * itself + (1 - saturation) * luma
            'saturation': saturation * np.eye(3) + (1 - saturation) * LUMA[:, None],
            'hue': (YIQ_TO_RGB @ rotate @ RGB_TO_YIQ).T,
        }
        for frame_coins in coins:
            a, b = np.eye(3), np.zeros(3)
            if frame_coins[0]:
                b = b + np.float32(shift)
            for name, coin in zip(later, frame_coins[1:]):
                if coin:
                    a, b = a @ maps[name], b @ maps[name]
            yield a, b

    def transform(self, results: dict) -> dict:
        imgs = frames_of(results)
        maps = list(self._colour_maps(len(imgs))) if self.color_space_aug else None
        alpha = np.random.normal(0, self.alpha_std, size=(3, ))
        offset = np.dot(self.eig_vec * alpha, self.eig_val).astype(np.float32)
        if maps is None:
            # one offset per channel: look every input level up once (0.x's float32 sum)
            levels = np.arange(256, dtype=np.float32)[:, None] + offset
            table = _to_uint8(levels).reshape(1, 256, 3)
            flat = np.ascontiguousarray(imgs).reshape(-1, imgs.shape[2], 3)
            out = cv2.LUT(flat, table).reshape(imgs.shape)
        else:
            out = np.empty_like(imgs)
            for k, (a, b) in enumerate(maps):
                out[k] = _to_uint8(imgs[k].astype(np.float32) @ a.astype(np.float32)
                                   + (b + offset).astype(np.float32))
        results['imgs'] = out
        results['eig_val'] = self.eig_val
        results['eig_vec'] = self.eig_vec
        results['alpha_std'] = self.alpha_std
        results['color_space_aug'] = self.color_space_aug
        return results


def _gray(img: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of float RGB frames (..., 3) -> (...)."""
    return img @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


@TRANSFORMS.register_module()
class BrightnessContrastSaturationHueJitter(BaseTransform):
    """Random brightness, contrast, saturation and hue, in a random order, once per clip: the
    ``ColorJitter`` of later mmaction2 releases (0.x after mid-2021, 1.x), renamed so that
    AIM's ``ColorJitter`` (:class:`ColorJitter`, PCA lighting) keeps its meaning.

    Each of ``brightness``, ``contrast``, ``saturation`` is a non-negative ``x`` (factor drawn
    from ``[1 - x, 1 + x]``) or a ``(min, max)`` factor range; ``hue`` is ``x <= 0.5`` (a
    shift of the hue circle drawn from ``[-x, x]`` turns) or a range in ``[-0.5, 0.5]``.
    Contrast blends with the clip's mean grey level, saturation with each pixel's grey.

    Reads and writes ``imgs`` (uint8).
    """

    def __init__(self, brightness=0.5, contrast=0.5, saturation=0.5, hue=0.1):
        self.brightness = self._range('brightness', brightness, 1, 1)
        self.contrast = self._range('contrast', contrast, 1, 1)
        self.saturation = self._range('saturation', saturation, 1, 1)
        self.hue = self._range('hue', hue, 0.5, 0)

    @staticmethod
    def _range(name, value, bound, centre) -> Tuple[float, float]:
        if isinstance(value, (tuple, list)):
            lo, hi = float(value[0]), float(value[1])
        else:
            if value < 0:
                raise ValueError(f'BrightnessContrastSaturationHueJitter {name} must be >= 0, '
                                 f'got {value}')
            lo, hi = centre - float(value), centre + float(value)
        if not centre - bound <= lo <= hi <= centre + bound:
            raise ValueError(f'BrightnessContrastSaturationHueJitter {name} range ({lo}, {hi}) '
                             f'must lie in [{centre - bound}, {centre + bound}]')
        return lo, hi

    def transform(self, results: dict) -> dict:
        imgs = frames_of(results)
        b = np.random.uniform(*self.brightness)
        c = np.random.uniform(*self.contrast)
        s = np.random.uniform(*self.saturation)
        h = np.random.uniform(*self.hue)
        clip = imgs.astype(np.float32)
        for op in np.random.permutation(4):
            if op == 0 and b != 1:
                clip *= b
            elif op == 1 and c != 1:
                clip = c * clip + (1 - c) * float(_gray(clip).mean())
            elif op == 2 and s != 1:
                clip = s * clip + (1 - s) * _gray(clip)[..., None]
            elif op == 3 and h != 0:
                u8 = np.clip(clip, 0, 255).astype(np.uint8)
                n, height, width, _ = u8.shape
                hsv = cv2.cvtColor(u8.reshape(n * height, width, 3), cv2.COLOR_RGB2HSV)
                hsv[..., 0] = (hsv[..., 0].astype(np.int32) + round(h * 180)) % 180
                clip = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).reshape(u8.shape).astype(np.float32)
        results['imgs'] = np.clip(clip, 0, 255).astype(np.uint8)
        return results


@TRANSFORMS.register_module()
class RandomErasing(BaseTransform):
    """Erase a random rectangle with probability ``probability`` (Zhong et al., 2017),
    the same rectangle in every frame (``cube=True``, as AIM's SSv2 configs).

    AIM applies it after ``Normalize``, where ``mode='const'`` erases to 0, i.e. to the
    dataset mean colour, and ``'rand'``/``'pixel'`` to standard-normal values. Frames stay
    uint8 here (the device normalises later), so the fill is written in pixel units:
    ``mean + std * value``, rounded, using the ``img_norm_cfg`` a preceding
    :class:`Normalize` recorded (without one, mean 0 and std 1).

    Args:
        probability: chance that a clip is erased.
        min_area, max_area: erased area as a fraction of the frame (divided among
            ``count`` rectangles).
        min_aspect, max_aspect: aspect ratio range (log-uniform; ``max_aspect`` defaults
            to ``1 / min_aspect``).
        mode: ``'const'``, ``'rand'`` (one random colour per rectangle) or ``'pixel'``
            (random per pixel).
        min_count, max_count: number of rectangles.
        cube: one rectangle for all frames; ``False`` draws one per frame.
    """

    def __init__(self, probability: float = 0.5, min_area: float = 0.02,
                 max_area: float = 1 / 3, min_aspect: float = 0.3,
                 max_aspect: Optional[float] = None, mode: str = 'const', min_count: int = 1,
                 max_count: Optional[int] = None, num_splits: int = 0, device: str = 'cpu',
                 cube: bool = True):
        if mode not in ('const', 'rand', 'pixel'):
            raise ValueError(f"RandomErasing mode must be 'const', 'rand' or 'pixel', got "
                             f'{mode!r}')
        if not 0 <= probability <= 1:
            raise ValueError(f'RandomErasing probability must be in [0, 1], got {probability}')
        self.probability = probability
        self.min_area = min_area
        self.max_area = max_area
        self.log_aspect = (math.log(min_aspect), math.log(max_aspect or 1 / min_aspect))
        self.mode = mode
        self.min_count = min_count
        self.max_count = max_count or min_count
        self.cube = cube
        # num_splits and device belong to the batched tensor version; nothing to do per clip

    def _boxes(self, img_h: int, img_w: int):
        count = self.min_count if self.min_count == self.max_count else \
            np.random.randint(self.min_count, self.max_count + 1)
        boxes = []
        for _ in range(count):
            for _attempt in range(10):
                area = np.random.uniform(self.min_area, self.max_area) * img_h * img_w / count
                ratio = math.exp(np.random.uniform(*self.log_aspect))
                h = int(round(math.sqrt(area * ratio)))
                w = int(round(math.sqrt(area / ratio)))
                if w < img_w and h < img_h:
                    boxes.append((np.random.randint(0, img_h - h + 1),
                                  np.random.randint(0, img_w - w + 1), h, w))
                    break
        return boxes

    def _fill(self, shape, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        if self.mode == 'pixel':
            value = np.random.normal(size=shape)
        elif self.mode == 'rand':
            value = np.random.normal(size=shape[-1])
        else:
            value = np.zeros(shape[-1])
        return np.clip(np.round(mean + std * value), 0, 255).astype(np.uint8)

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.probability:
            return results
        imgs = np.array(frames_of(results))  # erase a private copy: the input may be a view
        cfg = results.get('img_norm_cfg', {})
        mean = np.asarray(cfg.get('mean', np.zeros(3)), dtype=np.float64)
        std = np.asarray(cfg.get('std', np.ones(3)), dtype=np.float64)
        if cfg.get('to_bgr'):  # the statistics are given in BGR order; frames are RGB
            mean, std = mean[::-1], std[::-1]
        img_h, img_w = imgs.shape[1:3]
        groups = [imgs] if self.cube else [imgs[i:i + 1] for i in range(len(imgs))]
        for group in groups:
            for top, left, h, w in self._boxes(img_h, img_w):
                group[:, top:top + h, left:left + w] = self._fill((h, w, imgs.shape[3]), mean,
                                                                  std)
        results['imgs'] = imgs
        return results


@TRANSFORMS.register_module()
class Normalize(BaseTransform):
    """Record the normalisation; pixels stay uint8.

    Kept so AIM's pipelines read as they are written. The engine copies ``mean``, ``std``
    and ``to_bgr`` into the model's data preprocessor, which normalises on the device.
    Writes ``img_norm_cfg`` (dict of float32 ``mean``, ``std`` and ``to_bgr``).
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], to_bgr: bool = False,
                 adjust_magnitude: bool = False):
        mean = np.asarray(mean, dtype=np.float32)
        std = np.asarray(std, dtype=np.float32)
        if mean.shape != (3, ) or std.shape != (3, ):
            raise ValueError(f'Normalize needs 3 means and 3 stds, got mean={mean.tolist()} '
                             f'std={std.tolist()}')
        if (std <= 0).any():
            raise ValueError(f'Normalize std must be positive, got {std.tolist()}')
        if adjust_magnitude:
            raise ValueError('Normalize(adjust_magnitude=True) is for optical flow, which this '
                             'project does not load')
        self.mean = mean
        self.std = std
        self.to_bgr = to_bgr

    def transform(self, results: dict) -> dict:
        results['img_norm_cfg'] = dict(mean=self.mean, std=self.std, to_bgr=self.to_bgr)
        return results
