"""Recognition over sliding windows of frames: a timeline of a long video
(``demo/long_video_demo.py``) and a rolling prediction over a live source
(``demo/webcam_demo.py``).

A window is ``window`` consecutive frames; windows start every ``stride`` frames. Each
window's frames go through the config's test pipeline as frames in memory, exactly as
:func:`~mmaction.apis.inference_recognizer` takes them: its sampler picks the views inside the
window, then the same resizing, cropping, model and view averaging. A window's scores are
therefore ``inference_recognizer(model, frames[start:end])``.

Frames are decoded one at a time and only the last ``window`` of them are kept, so a video of
any length fits in memory.
"""
from collections import deque
from typing import Callable, Deque, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config
from torch import nn

from mmaction.utils.cli import user_error
from .inference import _test_dataset_cfg, check_label_names, inference_recognizer, read_label_names


@user_error
class WindowError(ValueError):
    """A window length, stride or count that cannot be used."""


def default_window(cfg: Config) -> int:
    """Frames one view of the config's test sampler spans: ``clip_len * frame_interval``
    (``SampleFrames``), ``clip_len`` (``UniformSampleFrames`` and other samplers)."""
    for step in _test_dataset_cfg(cfg)['pipeline']:
        if isinstance(step, dict) and 'clip_len' in step:
            return int(step['clip_len']) * int(step.get('frame_interval', 1))
    raise WindowError('the test pipeline has no sampler with a clip_len (SampleFrames, '
                      'UniformSampleFrames ...); give the window length in frames (--window).')


def window_bounds(num_frames: int, window: int, stride: int) -> List[Tuple[int, int]]:
    """The ``(start, end)`` frames (end exclusive) of the windows over a video of
    ``num_frames`` frames: starts ``0, stride, 2 * stride, ...`` while the window fits; if that
    leaves frames at the end uncovered, one more window ends at the last frame. A video shorter
    than the window is one window over all its frames."""
    _check_positive('window', window)
    _check_positive('stride', stride)
    if num_frames <= window:
        return [(0, num_frames)] if num_frames > 0 else []
    bounds = [(s, s + window) for s in range(0, num_frames - window + 1, stride)]
    if bounds[-1][1] < num_frames:
        bounds.append((num_frames - window, num_frames))
    return bounds


def _check_positive(name: str, value) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise WindowError(f'{name} must be a positive whole number, got {value!r}')


class SlidingWindows:
    """Feed frames one at a time; get each window as soon as its last frame arrived.

    ``push(frame)`` returns ``(start, end, frames)`` (a (window, H, W, 3) array) when a window
    of :func:`window_bounds` ends at that frame, else ``None``; ``finish()`` returns the last
    window of a finished video if :func:`window_bounds` has one that was not given yet (the
    one ending at the last frame, or the whole of a video shorter than the window). Only the
    last ``window`` frames are kept.
    """

    def __init__(self, window: int, stride: int):
        _check_positive('window', window)
        _check_positive('stride', stride)
        self.window, self.stride = int(window), int(stride)
        self.frames: Deque[np.ndarray] = deque(maxlen=self.window)
        self.count = 0  # frames pushed so far
        self._last_end = 0

    def push(self, frame: np.ndarray):
        self.frames.append(frame)
        self.count += 1
        start = self.count - self.window
        if start >= 0 and start % self.stride == 0:
            self._last_end = self.count
            return start, self.count, np.stack(self.frames)
        return None

    def finish(self):
        if self.count == 0 or self._last_end == self.count:
            return None
        self._last_end = self.count
        return max(0, self.count - self.window), self.count, np.stack(self.frames)


def _ranked(scores: np.ndarray, topk: int, threshold: float,
            names: Optional[Sequence[str]]) -> List[Dict]:
    """The ``topk`` best classes of a score vector (of a (views, classes) array: of its mean
    over views) with a score of at least ``threshold``, best first."""
    ranked = scores.mean(0) if scores.ndim == 2 else scores
    order = np.argsort(-ranked, kind='stable')[:topk]
    return [dict(label=int(i), name=names[i] if names is not None else str(int(i)),
                 score=float(ranked[i])) for i in order if ranked[i] >= threshold]


def _window_scores(model: nn.Module, frames: np.ndarray) -> np.ndarray:
    _, scores = inference_recognizer(model, frames, topk=1, return_scores=True)
    return scores


def recognise_windows(model: nn.Module, frames: Iterable[np.ndarray], window: int,
                      stride: int) -> Iterator[Tuple[int, int, np.ndarray]]:
    """``(start, end, scores)`` of every window of :func:`window_bounds` over the RGB uint8
    frames of ``frames`` (any iterable, consumed once); ``scores`` as
    ``inference_recognizer(model, frames[start:end], return_scores=True)`` gives them."""
    windows = SlidingWindows(window, stride)
    for frame in frames:
        ready = windows.push(frame)
        if ready is not None:
            yield ready[0], ready[1], _window_scores(model, ready[2])
    ready = windows.finish()
    if ready is not None:
        yield ready[0], ready[1], _window_scores(model, ready[2])


def video_timeline(model: nn.Module, video: str, window: Optional[int] = None,
                   stride: Optional[int] = None, topk: int = 5, threshold: float = 0.0,
                   label_names=None,
                   on_window: Optional[Callable[[Dict], None]] = None) -> Dict:
    """Recognise the action in every window of the video file ``video``.

    Args:
        model: from :func:`~mmaction.apis.init_recognizer`.
        video: a video file, decoded frame by frame with PyAV.
        window: frames per window (default :func:`default_window` of the model's config).
        stride: frames from one window's start to the next (default half the window).
        topk: classes kept per window; ``threshold``: only those scoring at least this.
        label_names: class names (a list or a file, one per line; default: the indices).
        on_window: called with each window's record as soon as it is computed.

    Returns:
        the timeline: ``video``, ``fps``, ``num_frames``, ``window``, ``stride``, ``topk``,
        ``threshold`` and ``windows``, one record per window in order:
        ``start_frame``, ``end_frame`` (exclusive), ``start_sec``, ``end_sec`` (frame index
        divided by the video's average frame rate) and ``labels``, the kept classes as
        ``{'label', 'name', 'score'}``, best first.
    """
    from mmaction.visualization.video import decode_frames, frame_rate
    names = read_label_names(label_names)
    check_label_names(names, model.cls_head.num_classes)
    _check_positive('topk', topk)
    window = default_window(model.cfg) if window is None else window
    stride = max(1, window // 2) if stride is None else stride
    _check_positive('window', window)
    _check_positive('stride', stride)
    fps = frame_rate(video)
    records, count = [], 0

    def counted(frames):
        nonlocal count
        for frame in frames:
            count += 1
            yield frame

    for start, end, scores in recognise_windows(model, counted(decode_frames(video)), window,
                                                stride):
        record = dict(start_frame=start, end_frame=end, start_sec=round(float(start / fps), 6),
                      end_sec=round(float(end / fps), 6),
                      labels=_ranked(scores, topk, threshold, names))
        records.append(record)
        if on_window is not None:
            on_window(record)
    if count == 0:
        raise ValueError(f'{video}: no frame could be decoded')
    return dict(video=str(video), fps=float(fps), num_frames=count, window=window,
                stride=stride, topk=topk, threshold=threshold, windows=records)


def frame_windows(timeline: Dict) -> np.ndarray:
    """For each frame of the timeline's video, the index of the window it is shown with: of
    the windows holding the frame, the one whose centre is nearest (the earlier on a tie)."""
    assigned = np.zeros(timeline['num_frames'], np.int64)
    best = np.full(timeline['num_frames'], np.inf)
    for i, record in enumerate(timeline['windows']):
        start, end = record['start_frame'], record['end_frame']
        frames = np.arange(start, end)
        distance = np.abs(frames + 0.5 - (start + end) / 2)
        closer = distance < best[start:end]
        assigned[start:end][closer] = i
        best[start:end][closer] = distance[closer]
    return assigned


class RollingRecognizer:
    """A rolling prediction over a live source: every ``stride`` frames (default: half a
    window), the last ``window`` frames are recognised (as
    :func:`~mmaction.apis.inference_recognizer` does) and the scores of the last ``average``
    windows are averaged (AIM's ``--average-size``).

    ``push(frame)`` returns ``(frame_count, ranked)`` after a recognition, with ``ranked`` the
    ``topk`` classes scoring at least ``threshold`` as ``{'label', 'name', 'score'}``, best
    first; ``None`` otherwise (not enough frames yet, or between recognitions).
    """

    def __init__(self, model: nn.Module, window: Optional[int] = None,
                 stride: Optional[int] = None, average: int = 1, topk: int = 5,
                 threshold: float = 0.0, label_names=None):
        self.model = model
        self.window = default_window(model.cfg) if window is None else window
        _check_positive('window', self.window)
        stride = max(1, self.window // 2) if stride is None else stride
        _check_positive('average', average)
        _check_positive('topk', topk)
        self.windows = SlidingWindows(self.window, stride)
        self.recent: Deque[np.ndarray] = deque(maxlen=average)
        self.topk, self.threshold = topk, threshold
        self.names = read_label_names(label_names)
        check_label_names(self.names, model.cls_head.num_classes)

    def push(self, frame: np.ndarray):
        ready = self.windows.push(frame)
        if ready is None:
            return None
        scores = _window_scores(self.model, ready[2])
        self.recent.append(scores.mean(0) if scores.ndim == 2 else scores)
        return ready[1], _ranked(np.mean(self.recent, axis=0), self.topk, self.threshold,
                                 self.names)


def label_lines(ranked: Sequence[Dict]) -> List[str]:
    """``'name: score'`` for each ranked class (the annotated videos' text)."""
    return [f"{r['name']}: {r['score']:.2f}" for r in ranked]


__all__ = ['default_window', 'window_bounds', 'SlidingWindows', 'recognise_windows',
           'video_timeline', 'frame_windows', 'RollingRecognizer', 'label_lines', 'WindowError']
