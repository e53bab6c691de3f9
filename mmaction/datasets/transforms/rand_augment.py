"""RandAugment on uint8 clips, and the ``Imgaug`` wrapper AIM's SSv2 configs spell it with.

AIM's configs write ``dict(type='Imgaug', transforms=[dict(type='RandAugment', n=4, m=7)])``,
which ran the ``imgaug`` package's RandAugment on every frame with one frozen random state.
``imgaug`` is unmaintained and fails on numpy 2, so this is a native implementation of the
same recipe with numpy and OpenCV:

1. always: a horizontal flip with probability 0.5, then a crop of ``U(0, m) / 224`` of each
   side (drawn per side) resized back to the input size;
2. ``n`` distinct operations, in random order, out of 18: identity, autocontrast, equalize,
   invert, rotate (up to +-m degrees), posterize (``8 - int(6 m / 30)`` bits), solarize
   (threshold ``256 - int(256 m / 30)``), colour / contrast / brightness / sharpness
   enhancement (factor ``1 +- 0.9 m / 30``), shear x / y (up to ``0.3 m / 30`` rad),
   translate x / y (up to ``0.33 m / 30`` of the side), cutout (a square of side
   ``(20 / 32) m / 30`` of the height), PIL's BLUR and SMOOTH filters.

``m`` is on imgaug's scale, whose maximum is 30. The photometric operations follow PIL's
definitions (imgaug's ``pillike`` module reproduces PIL); geometric ones fill with grey 128
and sample nearest-neighbour, as PIL's transform does.

Two deliberate differences, both for video:
- every random choice is drawn once per clip, and image statistics (autocontrast's range,
  equalize's histogram, contrast's mean grey) are taken over the whole clip, so all frames of
  a clip get the same mapping;
- the flip of step 1 swaps the label through the ``flip_label_map`` a preceding
  :class:`Flip` recorded (imgaug flipped SSv2's left/right classes without swapping them).
"""
import math
from typing import List, Sequence, Union

import cv2
import numpy as np

from mmaction.registry import TRANSFORMS
from .augment import _map_label, frames_of, resize_frames
from .base import BaseTransform

M_MAX = 30  # imgaug's magnitude scale
FILL = 128  # grey fill of the geometric operations and cutout

OPS = ('Identity', 'Autocontrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize',
       'Color', 'Contrast', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateX',
       'TranslateY', 'Cutout', 'Blur', 'Smooth')

_SMOOTH = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], np.float32) / 13
_BLUR = np.array([[1, 1, 1, 1, 1], [1, 0, 0, 0, 1], [1, 0, 0, 0, 1], [1, 0, 0, 0, 1],
                  [1, 1, 1, 1, 1]], np.float32) / 16


# -- photometric operations: (N, H, W, 3) uint8 -> (N, H, W, 3) uint8 -------------------------
def apply_lut(clip: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map every pixel through per-channel tables ``lut`` (256, 3) (or one table (256,))."""
    lut = np.asarray(lut, dtype=np.uint8)
    if lut.ndim == 1:
        lut = np.repeat(lut[:, None], 3, axis=1)
    n, h, w, c = clip.shape
    flat = np.ascontiguousarray(clip).reshape(n * h, w, c)
    return cv2.LUT(flat, lut.reshape(256, 1, c)).reshape(clip.shape)


def _histograms(clip: np.ndarray) -> np.ndarray:
    """Per-channel histograms (3, 256) over the whole clip."""
    return np.stack([np.bincount(clip[..., ch].reshape(-1), minlength=256)
                     for ch in range(clip.shape[-1])])


def autocontrast_lut(hist: np.ndarray) -> np.ndarray:
    """PIL's autocontrast (no cutoff): stretch each channel's [min, max] to [0, 255]."""
    luts = []
    for h in hist:
        used = np.flatnonzero(h)
        lo, hi = (used[0], used[-1]) if used.size else (0, 0)
        if hi <= lo:
            luts.append(np.arange(256))
            continue
        scale = 255.0 / (hi - lo)
        luts.append(np.clip((np.arange(256) * scale - lo * scale).astype(np.int64), 0, 255))
    return np.stack(luts, axis=1)


def equalize_lut(hist: np.ndarray) -> np.ndarray:
    """PIL's equalize: each channel's cumulative histogram, in steps of (count - last) / 256."""
    luts = []
    for h in hist:
        used = h[h > 0]
        step = (used.sum() - used[-1]) // 256 if used.size > 1 else 0
        if step == 0:
            luts.append(np.arange(256))
            continue
        before = np.concatenate([[0], np.cumsum(h)[:-1]])
        luts.append(np.clip((step // 2 + before) // step, 0, 255))
    return np.stack(luts, axis=1)


def pil_gray(clip: np.ndarray) -> np.ndarray:
    """PIL's RGB -> L conversion (fixed point, rounded), shape (..., )."""
    rgb = clip.astype(np.uint32)
    return ((rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000)
            >> 16).astype(np.uint8)


def blend(degenerate, clip: np.ndarray, factor: float) -> np.ndarray:
    """PIL's ``Image.blend(degenerate, clip, factor)``: extrapolates, clips, truncates."""
    out = clip.astype(np.float32)  # in place from here: one float buffer per call
    out -= degenerate
    out *= np.float32(factor)
    out += degenerate
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def filter_frames(clip: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """PIL's kernel filters: correlate, round, keep the border pixels the kernel cannot
    cover."""
    margin = kernel.shape[0] // 2
    out = np.array(clip)  # borders stay as they are
    for src, dst in zip(clip, out):
        filtered = cv2.filter2D(src.astype(np.float32), -1, kernel,
                                borderType=cv2.BORDER_REPLICATE)
        inner = np.floor(filtered[margin:-margin, margin:-margin] + 0.5)
        dst[margin:-margin, margin:-margin] = np.clip(inner, 0, 255).astype(np.uint8)
    return out


def warp_frames(clip: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply the forward affine ``matrix`` (2, 3) to every frame; grey fill, nearest."""
    h, w = clip.shape[1:3]
    out = np.empty_like(clip)
    for src, dst in zip(clip, out):
        cv2.warpAffine(np.ascontiguousarray(src), matrix, (w, h), dst=dst,
                       flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=(FILL, FILL, FILL))
    return out


# PIL's operations on whole clips; statistics are taken over every frame of the clip.
def autocontrast(clip: np.ndarray) -> np.ndarray:
    return apply_lut(clip, autocontrast_lut(_histograms(clip)))


def equalize(clip: np.ndarray) -> np.ndarray:
    return apply_lut(clip, equalize_lut(_histograms(clip)))


def invert(clip: np.ndarray) -> np.ndarray:
    return apply_lut(clip, 255 - np.arange(256))


def posterize(clip: np.ndarray, bits: int) -> np.ndarray:
    """Keep the ``bits`` high bits of every value."""
    return apply_lut(clip, np.arange(256) & (0xFF << (8 - bits)) & 0xFF)


def solarize(clip: np.ndarray, threshold: int) -> np.ndarray:
    """Invert the values at or above ``threshold``."""
    levels = np.arange(256)
    return apply_lut(clip, np.where(levels < threshold, levels, 255 - levels))


def color(clip: np.ndarray, factor: float) -> np.ndarray:
    """``ImageEnhance.Color``: 0 gives grey, 1 the clip."""
    return blend(pil_gray(clip)[..., None].astype(np.float32), clip, factor)


def contrast(clip: np.ndarray, factor: float) -> np.ndarray:
    """``ImageEnhance.Contrast``: 0 gives the clip's mean grey, 1 the clip."""
    return blend(np.float32(int(pil_gray(clip).mean() + 0.5)), clip, factor)


def brightness(clip: np.ndarray, factor: float) -> np.ndarray:
    """``ImageEnhance.Brightness``: 0 gives black, 1 the clip."""
    return blend(np.float32(0), clip, factor)


def sharpness(clip: np.ndarray, factor: float) -> np.ndarray:
    """``ImageEnhance.Sharpness``: 0 gives PIL's SMOOTH filter, 1 the clip."""
    return blend(filter_frames(clip, _SMOOTH).astype(np.float32), clip, factor)


def blur(clip: np.ndarray) -> np.ndarray:
    """``ImageFilter.BLUR``."""
    return filter_frames(clip, _BLUR)


def smooth(clip: np.ndarray) -> np.ndarray:
    """``ImageFilter.SMOOTH``."""
    return filter_frames(clip, _SMOOTH)


def _random_sign() -> float:
    return 1.0 if np.random.rand() < 0.5 else -1.0


@TRANSFORMS.register_module()
class RandAugment(BaseTransform):
    """RandAugment with imgaug's operation set and magnitudes, applied per clip.

    See the module docstring for the recipe.

    Args:
        n: operations per clip (an int, or a (min, max) range drawn per clip).
        m: magnitude on imgaug's 0..30 scale (an int, or a (min, max) range drawn per clip).

    Reads ``imgs`` (and ``label``, ``flip_label_map``); writes ``imgs``, ``label``.
    """

    def __init__(self, n: Union[int, Sequence[int]] = 2, m: Union[int, Sequence[int]] = (6, 12)):
        self.n = self._check_range('n', n, len(OPS))
        self.m = self._check_range('m', m, None)

    @staticmethod
    def _check_range(name, value, upper):
        values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
        if len(values) != 2 or not all(isinstance(v, (int, np.integer)) for v in values) or \
                values[0] < 0 or values[0] > values[1] or (upper and values[1] > upper):
            bound = f' and at most {upper}' if upper else ''
            raise ValueError(f'RandAugment {name} must be a non-negative int{bound}, or a '
                             f'(min, max) pair of them; got {value!r}')
        return value

    @staticmethod
    def _draw(value) -> int:
        if isinstance(value, (tuple, list)):
            return int(np.random.randint(value[0], value[1] + 1))
        return int(value)

    # -- the always-on flip and crop ----------------------------------------------------
    @staticmethod
    def _flip_and_crop(results: dict, clip: np.ndarray, m: int) -> np.ndarray:
        if np.random.rand() < 0.5:
            clip = clip[:, :, ::-1]
            if 'label' in results and results.get('flip_label_map'):
                results['label'] = _map_label(results['label'], results['flip_label_map'])
        h, w = clip.shape[1:3]
        top, right, bottom, left = np.random.uniform(0, m, size=4) / 224
        t, b = int(round(top * h)), int(round(bottom * h))
        lf, r = int(round(left * w)), int(round(right * w))
        if t + b >= h:
            t = b = 0
        if lf + r >= w:
            lf = r = 0
        if t or b or lf or r:
            clip = resize_frames(clip[:, t:h - b, lf:w - r], w, h, cv2.INTER_LINEAR)
        return clip

    # -- the operations -----------------------------------------------------------------
    @staticmethod
    def _affine(clip: np.ndarray, op: str, m: int) -> np.ndarray:
        h, w = clip.shape[1:3]
        sign = _random_sign()
        if op == 'Rotate':
            matrix = cv2.getRotationMatrix2D((w / 2, h / 2), sign * m * 30 / M_MAX, 1.0)
        elif op in ('ShearX', 'ShearY'):
            shear = math.tan(sign * m * 0.3 / M_MAX)  # about the top-left corner
            matrix = np.array([[1, shear, 0], [0, 1, 0]] if op == 'ShearX' else
                              [[1, 0, 0], [shear, 1, 0]], dtype=np.float64)
        else:
            shift = sign * m * 0.33 / M_MAX
            matrix = np.array([[1, 0, shift * w if op == 'TranslateX' else 0],
                               [0, 1, shift * h if op == 'TranslateY' else 0]],
                              dtype=np.float64)
        return warp_frames(clip, matrix)

    @staticmethod
    def _enhance_factor(m: int) -> float:
        return float(np.clip(1.0 + _random_sign() * m * 0.9 / M_MAX, 0.1, 1.9))

    def apply_op(self, clip: np.ndarray, op: str, m: int) -> np.ndarray:
        """One operation at magnitude ``m`` on a (N, H, W, 3) uint8 clip."""
        if op == 'Identity':
            return clip
        simple = dict(Autocontrast=autocontrast, Equalize=equalize, Invert=invert, Blur=blur,
                      Smooth=smooth)
        if op in simple:
            return simple[op](clip)
        if op == 'Posterize':
            return posterize(clip, 8 - min(max(int(m * 6 / M_MAX), 0), 6))
        if op == 'Solarize':
            return solarize(clip, min(max(256 - int(m * 256 / M_MAX), 0), 256))
        enhance = dict(Color=color, Contrast=contrast, Brightness=brightness,
                       Sharpness=sharpness)
        if op in enhance:
            return enhance[op](clip, self._enhance_factor(m))
        if op in ('Rotate', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY'):
            return self._affine(clip, op, m)
        if op == 'Cutout':
            h, w = clip.shape[1:3]
            side = int(round(min(max(m * (20 / 32) / M_MAX, 0), 20 / 32) * h))
            if side == 0:
                return clip
            cy, cx = np.random.uniform(0, h), np.random.uniform(0, w)
            y1, x1 = int(round(cy - side / 2)), int(round(cx - side / 2))
            out = np.array(clip)
            out[:, max(y1, 0):max(y1 + side, 0), max(x1, 0):max(x1 + side, 0)] = FILL
            return out
        raise ValueError(f'unknown RandAugment operation {op!r}; known: {OPS}')

    def transform(self, results: dict) -> dict:
        m = self._draw(self.m)
        n = self._draw(self.n)
        clip = self._flip_and_crop(results, frames_of(results), m)
        chosen: List[str] = [OPS[i] for i in np.random.permutation(len(OPS))[:n]]
        for op in chosen:
            clip = self.apply_op(clip, op, m)
        results['imgs'] = clip
        results['img_shape'] = clip.shape[1:3]
        return results


@TRANSFORMS.register_module()
class Imgaug(BaseTransform):
    """AIM's spelling of RandAugment: ``Imgaug(transforms=[dict(type='RandAugment', n, m)])``.

    Runs the listed augmenters in order on the clip. Only augmenters implemented natively in
    this project are accepted (RandAugment); anything else is refused with that list, since
    the ``imgaug`` package itself is not used.
    """

    NATIVE = {'RandAugment': RandAugment}

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)):
            raise ValueError(f"Imgaug(transforms={transforms!r}): only a list of augmenter "
                             f"dicts is supported (imgaug's 'default' list is not available); "
                             f"natively implemented: {sorted(self.NATIVE)}")
        self.transforms = []
        for cfg in transforms:
            cfg = dict(cfg)
            kind = cfg.pop('type', None)
            if kind not in self.NATIVE:
                raise ValueError(f'Imgaug augmenter {kind!r} is not implemented natively (the '
                                 f'unmaintained imgaug package is not used); available: '
                                 f'{sorted(self.NATIVE)}')
            self.transforms.append(self.NATIVE[kind](**cfg))

    def transform(self, results: dict) -> dict:
        for t in self.transforms:
            results = t(results)
        return results
