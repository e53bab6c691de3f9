"""Write videos from the demos: a copy of a video with text drawn on every frame
(``demo/demo.py``, ``demo/long_video_demo.py``), frames one at a time (``demo/webcam_demo.py``)
or all at once as mp4 or GIF (``demo/demo_gradcam.py``)."""
import contextlib
import os.path as osp
from fractions import Fraction
from typing import Callable, Iterator, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from mmaction.utils.fileio import atomic_write

#: output suffix -> (container format, codec)
VIDEO_FORMATS = {'.mp4': ('mp4', 'libx264'), '.mov': ('mov', 'libx264'),
                 '.mkv': ('matroska', 'libx264')}
#: what :func:`write_frames` writes: the h264 formats and GIF
FRAME_FORMATS = sorted(VIDEO_FORMATS) + ['.gif']


def draw_label(frame: np.ndarray, text: str, color: Tuple[int, int, int] = (255, 255, 255),
               background: Tuple[int, int, int] = (0, 0, 0), top: int = 0) -> int:
    """Draw ``text`` at the left edge of an RGB uint8 frame (in place), its box starting at
    row ``top``, on a filled box so it reads on any content; the font is scaled to the
    frame and shrunk until the text fits its width. Returns the first row below the box."""
    height, width = frame.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(0.3, min(height, width) / 480)
    thickness = max(1, round(scale * 2))
    margin = max(2, round(4 * scale))
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    while tw + 2 * margin > width and scale > 0.2:
        scale *= 0.9
        thickness = max(1, round(scale * 2))
        (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    bottom = top + th + base + 2 * margin
    cv2.rectangle(frame, (0, top), (min(width - 1, tw + 2 * margin), bottom), background,
                  thickness=-1)
    cv2.putText(frame, text, (margin, top + margin + th), font, scale, color, thickness,
                cv2.LINE_AA)
    return bottom + 1


def draw_lines(frame: np.ndarray, lines: Sequence[str], **kwargs) -> np.ndarray:
    """Draw ``lines`` one under the other from the top-left corner (:func:`draw_label`'s
    boxes); lines that would start below the frame are left out. Returns the frame."""
    top = 0
    for line in lines:
        if top >= frame.shape[0]:
            break
        top = draw_label(frame, line, top=top, **kwargs)
    return frame


def _even(frame: np.ndarray) -> np.ndarray:
    """yuv420p needs an even width and height: repeat the last row/column when odd."""
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    if pad_h or pad_w:
        frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode='edge')
    return frame


def _check_suffix(dst: str, formats: Sequence[str], what: str) -> str:
    suffix = osp.splitext(dst)[1].lower()
    if suffix not in formats:
        raise ValueError(f'{dst}: {what} {sorted(formats)} files; got '
                         f'{suffix or "no suffix"!r}.')
    return suffix


class _Encoder:
    """What :func:`video_writer` yields: ``write(frame)`` appends one RGB uint8 (H, W, 3)
    frame; ``count`` frames so far."""

    def __init__(self, container, codec: str, rate: Fraction, crf: int):
        self._out, self._codec, self._rate, self._crf = container, codec, rate, crf
        self._stream = None
        self.count = 0

    def write(self, frame: np.ndarray) -> None:
        import av
        image = _even(np.ascontiguousarray(frame))
        if self._stream is None:
            self._stream = self._out.add_stream(self._codec, rate=self._rate)
            self._stream.width, self._stream.height = image.shape[1], image.shape[0]
            self._stream.pix_fmt = 'yuv420p'
            self._stream.options = {'crf': str(self._crf)}
        elif (image.shape[1], image.shape[0]) != (self._stream.width, self._stream.height):
            raise ValueError(f'frame {self.count} is {frame.shape[1]}x{frame.shape[0]}; the '
                             f'video is {self._stream.width}x{self._stream.height}')
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(image, format='rgb24')):
            self._out.mux(packet)
        self.count += 1

    def finish(self, dst: str) -> None:
        if self._stream is None:
            raise ValueError(f'{dst}: no frame to write')
        for packet in self._stream.encode():
            self._out.mux(packet)


@contextlib.contextmanager
def video_writer(dst: str, fps: Union[float, Fraction] = 30, crf: int = 18) -> Iterator[_Encoder]:
    """Write an h264 file (yuv420p) one frame at a time, so that memory stays flat::

        with video_writer('out.mp4', fps=25) as out:
            for frame in frames:
                out.write(frame)  # RGB uint8 (H, W, 3)

    The frames go into a temporary file next to ``dst``, renamed to ``dst`` when the block
    ends; an error (or no frame at all) leaves ``dst`` as it was. Frames of odd width or
    height get one repeated row/column (4:2:0 needs even sizes); every frame must have the
    first one's size.
    """
    import av
    suffix = _check_suffix(dst, VIDEO_FORMATS, 'videos are written as h264 in')
    container_format, codec = VIDEO_FORMATS[suffix]
    rate = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
    with atomic_write(dst) as tmp, av.open(tmp, 'w', format=container_format) as container:
        encoder = _Encoder(container, codec, rate, crf)
        yield encoder
        encoder.finish(dst)


def decode_frames(src: str) -> Iterator[np.ndarray]:
    """The frames of the video ``src`` as RGB uint8 (H, W, 3) arrays, decoded one at a time
    with PyAV."""
    import av
    if not osp.isfile(src):
        raise FileNotFoundError(f'video {src} does not exist')
    with av.open(src) as source:
        if not source.streams.video:
            raise ValueError(f'{src} has no video stream')
        for frame in source.decode(source.streams.video[0]):
            yield frame.to_ndarray(format='rgb24')


def frame_rate(src: str) -> Fraction:
    """The average frame rate of the video ``src`` (30 when the file does not say)."""
    import av
    with av.open(src) as source:
        if not source.streams.video:
            raise ValueError(f'{src} has no video stream')
        stream = source.streams.video[0]
        return Fraction(stream.average_rate or stream.guessed_rate or 30)


def write_labelled_video(src: str, dst: str,
                         text: Union[str, Sequence[str], Callable[[int], Sequence[str]]],
                         fps: Optional[float] = None, crf: int = 18) -> int:
    """Copy the video ``src`` to ``dst`` (h264, yuv420p) with ``text`` drawn on every frame.

    ``text``: one line, a list of lines, or a function of the frame index (from 0) giving the
    lines of that frame. Frames are decoded with PyAV and written one at a time
    (:func:`video_writer`: memory stays flat for long videos, ``dst`` appears complete or not
    at all). ``fps`` defaults to the source's frame rate. Returns the number of frames
    written.
    """
    _check_suffix(dst, VIDEO_FORMATS, 'the annotated video is written as h264 in')
    if not osp.isfile(src):
        raise FileNotFoundError(f'video {src} does not exist')
    if callable(text):
        lines_of = text
    else:
        lines = [text] if isinstance(text, str) else list(text)
        def lines_of(index):  # noqa: E306
            return lines
    rate = Fraction(fps).limit_denominator(1001) if fps else frame_rate(src)
    with video_writer(dst, rate, crf=crf) as writer:
        for index, frame in enumerate(decode_frames(src)):
            writer.write(draw_lines(frame, lines_of(index)))
        if writer.count == 0:
            raise ValueError(f'{src}: no frame could be decoded')
    return writer.count


def blend_heat(frames: np.ndarray, heat: np.ndarray, alpha: float = 0.5,
               colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """RGB uint8 ``frames`` (..., H, W, 3) with ``heat`` (..., H, W, values in [0, 1])
    drawn over them in ``colormap`` colours: ``(1 - alpha) * frame + alpha * colour``."""
    if frames.shape[:-1] != heat.shape or frames.shape[-1] != 3:
        raise ValueError(f'frames {frames.shape} and heat {heat.shape} do not match: expected '
                         '(..., H, W, 3) and (..., H, W)')
    if not 0 <= alpha <= 1:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    level = np.clip(np.rint(heat * 255), 0, 255).astype(np.uint8)
    colours = cv2.applyColorMap(level.reshape(-1, heat.shape[-1]), colormap)  # BGR
    colours = colours[..., ::-1].reshape(frames.shape).astype(np.float32)
    return np.rint((1 - alpha) * frames.astype(np.float32) + alpha * colours).astype(np.uint8)


def write_frames(dst: str, frames: Sequence[np.ndarray], fps: float = 5) -> int:
    """Write RGB uint8 frames as ``dst``: h264 (``.mp4``, ``.mov``, ``.mkv``) or an endlessly
    looping GIF (``.gif``, through Pillow, one adaptive palette per frame), atomically.
    Returns the number of frames."""
    suffix = _check_suffix(dst, FRAME_FORMATS, 'frames are written as')
    if len(frames) == 0:
        raise ValueError(f'{dst}: no frame to write')
    if suffix != '.gif':
        with video_writer(dst, fps) as writer:
            for frame in frames:
                writer.write(frame)
        return writer.count
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError('GIF output needs Pillow: pip install pillow (or write .mp4)') \
            from err
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    with atomic_write(dst) as tmp, open(tmp, 'wb') as f:
        images[0].save(f, format='GIF', save_all=True, append_images=images[1:],
                       duration=round(1000 / fps), loop=0)
    return len(images)
