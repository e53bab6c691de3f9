"""Which frames of a video a clip is made of.

The samplers reproduce mmaction2 0.x index for index (same arguments, same frames; random draws
use numpy's global generator, which mmengine seeds per data-loader worker), plus AIM's
``frame_uniform`` segment sampling. They only compute indices: decoding comes after, and
decodes just these frames.

Each sampler reads ``total_frames`` and ``start_index`` (and ``test_mode`` when it was not
given one) and writes ``frame_inds`` (int64, clip-major, ``num_clips * clip_len`` long, with
``start_index`` added), ``clip_len``, ``frame_interval`` and ``num_clips`` (the number of clips
actually sampled, which :class:`FormatShape` uses to build views).
"""
import warnings
from typing import Optional

import numpy as np

from mmaction.registry import TRANSFORMS
from .base import BaseTransform
from .loading import VideoDecodeError


def _check_positive_int(name: str, value) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')


def _total_frames(results: dict) -> int:
    total = int(results['total_frames'])
    if total < 1:
        source = results.get('filename', results.get('frame_dir', '<unknown>'))
        raise VideoDecodeError(source, f'it has {total} frames; there is nothing to sample')
    return total


def _resolve_test_mode(own: Optional[bool], results: dict) -> bool:
    """The sampler's own ``test_mode`` when the config set one, else the dataset's."""
    return bool(results.get('test_mode', False)) if own is None else bool(own)


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """``num_clips`` clips of ``clip_len`` frames taken every ``frame_interval`` frames.

    Training draws each clip's start at random inside its share of the video; test mode
    (deterministic) centres each clip in its share. A video shorter than a clip is read with
    ``out_of_bound_opt``: ``'loop'`` wraps around to the start, ``'repeat_last'`` repeats the
    clip's last available frame.

    Args:
        clip_len: frames per clip.
        frame_interval: distance between consecutive sampled frames.
        num_clips: clips per video (views along time).
        temporal_jitter: add a random offset in ``[0, frame_interval)`` to every frame.
        twice_sample: test mode only; also take clips at the start of every share.
        out_of_bound_opt: ``'loop'`` or ``'repeat_last'``.
        test_mode: deterministic sampling. ``None`` (the default) follows the dataset's
            ``test_mode``; an explicit value wins.
        start_index: no longer read here (as in mmaction2 0.x); set it on the dataset.
        keep_tail_frames: training; spread clips over the whole video with float shares so
            the tail can be sampled too.
        frame_uniform: AIM's segment sampling (SSv2, Diving-48): split the video into
            ``clip_len`` equal segments and take one frame from each, a random one in
            training and the segment centre in test mode. ``frame_interval`` is then unused
            and ``num_clips`` must be 1.
    """

    pipeline_role = 'sampler'

    def __init__(self,
                 clip_len: int,
                 frame_interval: int = 1,
                 num_clips: int = 1,
                 temporal_jitter: bool = False,
                 twice_sample: bool = False,
                 out_of_bound_opt: str = 'loop',
                 test_mode: Optional[bool] = None,
                 start_index: Optional[int] = None,
                 keep_tail_frames: bool = False,
                 frame_uniform: bool = False):
        _check_positive_int('clip_len', clip_len)
        _check_positive_int('frame_interval', frame_interval)
        _check_positive_int('num_clips', num_clips)
        if out_of_bound_opt not in ('loop', 'repeat_last'):
            raise ValueError(f"out_of_bound_opt must be 'loop' or 'repeat_last', "
                             f'got {out_of_bound_opt!r}')
        if frame_uniform and num_clips != 1:
            raise ValueError(
                f'SampleFrames(frame_uniform=True) samples one clip per video (AIM); got '
                f'num_clips={num_clips}. For several segment-sampled clips use '
                'UniformSampleFrames(clip_len, num_clips, test_mode).')
        if start_index is not None:
            warnings.warn('SampleFrames(start_index=...) is ignored, as in mmaction2 0.x: '
                          "the frames' start index is the dataset's `start_index`.")
        self.clip_len = int(clip_len)
        self.frame_interval = int(frame_interval)
        self.num_clips = int(num_clips)
        self.temporal_jitter = temporal_jitter
        self.twice_sample = twice_sample
        self.out_of_bound_opt = out_of_bound_opt
        self.test_mode = test_mode
        self.keep_tail_frames = keep_tail_frames
        self.frame_uniform = frame_uniform

    # -- clip start offsets -------------------------------------------------------------
    def _train_offsets(self, num_frames: int) -> np.ndarray:
        span = self.clip_len * self.frame_interval
        if self.keep_tail_frames:
            share = (num_frames - span + 1) / float(self.num_clips)
            if num_frames > span - 1:
                base = np.arange(self.num_clips) * share
                return (base + np.random.uniform(0, share, self.num_clips)).astype(np.int64)
            return np.zeros(self.num_clips, dtype=np.int64)

        share = (num_frames - span + 1) // self.num_clips
        if share > 0:
            base = np.arange(self.num_clips) * share
            return base + np.random.randint(share, size=self.num_clips)
        if num_frames > max(self.num_clips, span):
            return np.sort(np.random.randint(num_frames - span + 1, size=self.num_clips))
        if share == 0:
            ratio = (num_frames - span + 1.0) / self.num_clips
            return np.around(np.arange(self.num_clips) * ratio).astype(np.int64)
        return np.zeros(self.num_clips, dtype=np.int64)

    def _test_offsets(self, num_frames: int) -> np.ndarray:
        span = self.clip_len * self.frame_interval
        share = (num_frames - span + 1) / float(self.num_clips)
        if num_frames > span - 1:
            base = np.arange(self.num_clips) * share
            offsets = (base + share / 2.0).astype(np.int64)
            if self.twice_sample:
                offsets = np.concatenate([offsets, base.astype(np.int64)])
            return offsets
        return np.zeros(self.num_clips, dtype=np.int64)

    def _clip_offsets(self, num_frames: int, test_mode: bool) -> np.ndarray:
        if test_mode:
            return self._test_offsets(num_frames)
        return self._train_offsets(num_frames)

    # -- AIM's segment sampling ---------------------------------------------------------
    def _segment_inds(self, num_frames: int, test_mode: bool) -> np.ndarray:
        seg_size = float(num_frames - 1) / self.clip_len
        starts = np.round(seg_size * np.arange(self.clip_len)).astype(np.int64)
        ends = np.round(seg_size * np.arange(1, self.clip_len + 1)).astype(np.int64)
        if test_mode:
            return (starts + ends) // 2
        return np.random.randint(starts, ends + 1)  # both ends inclusive, as AIM

    def transform(self, results: dict) -> dict:
        total = _total_frames(results)
        test_mode = _resolve_test_mode(self.test_mode, results)
        if self.frame_uniform:
            inds = self._segment_inds(total, test_mode)[None]
        else:
            offsets = self._clip_offsets(total, test_mode)
            inds = offsets[:, None] + np.arange(self.clip_len)[None] * self.frame_interval
            if self.temporal_jitter:
                inds = inds + np.random.randint(self.frame_interval, size=inds.shape)
            if self.out_of_bound_opt == 'loop':
                inds = np.mod(inds, total)
            else:  # repeat_last: past-the-end frames repeat the clip's last real frame
                valid = inds < total
                last = np.max(np.where(valid, inds, 0), axis=1, keepdims=True)
                inds = np.where(valid, inds, last)
        results['frame_inds'] = (inds.reshape(-1) + results.get('start_index', 0)).astype(np.int64)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        results['num_clips'] = inds.shape[0]
        return results


@TRANSFORMS.register_module()
class UniformSampleFrames(BaseTransform):
    """Segment sampling over the whole video (mmaction2's ``UniformSampleFrames``).

    The video is cut into ``clip_len`` near-equal segments and one frame is drawn from each.
    Videos shorter than ``clip_len`` take a run of consecutive frames (wrapping around);
    videos shorter than ``2 * clip_len`` take every frame once plus randomly placed repeats.
    Test mode draws from a generator seeded with ``seed`` (so it is deterministic) and gives
    ``num_clips`` clips; the global random state is left alone.
    """

    pipeline_role = 'sampler'

    def __init__(self, clip_len: int, num_clips: int = 1, test_mode: Optional[bool] = None,
                 seed: int = 255):
        _check_positive_int('clip_len', clip_len)
        _check_positive_int('num_clips', num_clips)
        self.clip_len = int(clip_len)
        self.num_clips = int(num_clips)
        self.test_mode = test_mode
        self.seed = seed

    def _one_clip(self, num_frames: int, rng) -> np.ndarray:
        clip_len = self.clip_len
        if num_frames < clip_len:
            start = rng.randint(0, num_frames)
            return np.arange(start, start + clip_len)
        if num_frames < 2 * clip_len:
            # every frame once, and (num_frames - clip_len) of the clip_len + 1 gaps skip one
            skips = np.zeros(clip_len + 1, dtype=np.int64)
            skips[rng.choice(clip_len + 1, num_frames - clip_len, replace=False)] = 1
            return np.arange(clip_len) + np.cumsum(skips)[:-1]
        bounds = np.array([i * num_frames // clip_len for i in range(clip_len + 1)])
        return bounds[:-1] + rng.randint(np.diff(bounds))

    def _test_clips(self, num_frames: int) -> np.ndarray:
        rng = np.random.RandomState(self.seed)
        if num_frames < self.clip_len:
            if num_frames < self.num_clips:
                starts = list(range(self.num_clips))
            else:
                starts = [i * num_frames // self.num_clips for i in range(self.num_clips)]
            return np.stack([np.arange(s, s + self.clip_len) for s in starts])
        return np.stack([self._one_clip(num_frames, rng) for _ in range(self.num_clips)])

    def transform(self, results: dict) -> dict:
        total = _total_frames(results)
        if _resolve_test_mode(self.test_mode, results):
            inds = self._test_clips(total)
        else:
            inds = np.stack([self._one_clip(total, np.random) for _ in range(self.num_clips)])
        inds = np.mod(inds, total) + results.get('start_index', 0)
        results['frame_inds'] = inds.reshape(-1).astype(np.int64)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = inds.shape[0]
        return results


@TRANSFORMS.register_module()
class DenseSampleFrames(SampleFrames):
    """Clips packed densely in a window of ``sample_range`` frames (mmaction2's
    ``DenseSampleFrames``).

    Training places the window at a random start; test mode takes ``num_sample_positions``
    evenly spaced window starts, each giving ``num_clips`` clips (so ``num_clips *
    num_sample_positions`` clips in all).
    """

    def __init__(self, *args, sample_range: int = 64, num_sample_positions: int = 10,
                 **kwargs):
        super().__init__(*args, **kwargs)
        _check_positive_int('sample_range', sample_range)
        _check_positive_int('num_sample_positions', num_sample_positions)
        self.sample_range = sample_range
        self.num_sample_positions = num_sample_positions

    def _train_offsets(self, num_frames: int) -> np.ndarray:
        positions = max(1, 1 + num_frames - self.sample_range)
        step = self.sample_range // self.num_clips
        start = 0 if positions == 1 else np.random.randint(0, positions - 1)
        return (np.arange(self.num_clips) * step + start) % num_frames

    def _test_offsets(self, num_frames: int) -> np.ndarray:
        positions = max(1, 1 + num_frames - self.sample_range)
        step = self.sample_range // self.num_clips
        starts = np.linspace(0, positions - 1, num=self.num_sample_positions, dtype=int)
        base = np.arange(self.num_clips) * step
        return np.concatenate([(base + s) % num_frames for s in starts])
