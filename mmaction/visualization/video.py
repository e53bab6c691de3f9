"""Write a copy of a video with a text label drawn on every frame (``demo/demo.py``)."""
import os.path as osp
from fractions import Fraction
from typing import Optional, Tuple

import cv2
import numpy as np

from mmaction.utils.fileio import atomic_write

#: output suffix -> (container format, codec)
VIDEO_FORMATS = {'.mp4': ('mp4', 'libx264'), '.mov': ('mov', 'libx264'),
                 '.mkv': ('matroska', 'libx264')}


def draw_label(frame: np.ndarray, text: str, color: Tuple[int, int, int] = (255, 255, 255),
               background: Tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Draw ``text`` in the top-left corner of an RGB uint8 frame (in place), on a filled
    box so it reads on any content; the font is scaled to the frame and shrunk until the
    text fits its width. Returns the frame."""
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
    cv2.rectangle(frame, (0, 0), (min(width - 1, tw + 2 * margin), th + base + 2 * margin),
                  background, thickness=-1)
    cv2.putText(frame, text, (margin, margin + th), font, scale, color, thickness,
                cv2.LINE_AA)
    return frame


def _even(frame: np.ndarray) -> np.ndarray:
    """yuv420p needs an even width and height: repeat the last row/column when odd."""
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    if pad_h or pad_w:
        frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode='edge')
    return frame


def write_labelled_video(src: str, dst: str, text: str, fps: Optional[float] = None,
                         crf: int = 18) -> int:
    """Copy the video ``src`` to ``dst`` (h264, yuv420p) with ``text`` drawn on every frame.

    Frames are decoded with PyAV and written one at a time (memory stays flat for long
    videos) into a temporary file next to ``dst``, which is renamed to ``dst`` once
    complete. ``fps`` defaults to the source's frame rate. Frames of odd width or height
    get one repeated row/column (h264's 4:2:0 format needs even sizes). Returns the number
    of frames written.
    """
    import av
    suffix = osp.splitext(dst)[1].lower()
    if suffix not in VIDEO_FORMATS:
        raise ValueError(f'--out-file {dst}: the annotated video is written as h264 in '
                         f'{sorted(VIDEO_FORMATS)} files; got {suffix or "no suffix"!r}.')
    if not osp.isfile(src):
        raise FileNotFoundError(f'video {src} does not exist')
    container_format, codec = VIDEO_FORMATS[suffix]
    count = 0
    with atomic_write(dst) as tmp:
        with av.open(src) as source, av.open(tmp, 'w', format=container_format) as out:
            if not source.streams.video:
                raise ValueError(f'{src} has no video stream')
            in_stream = source.streams.video[0]
            rate = Fraction(fps).limit_denominator(1001) if fps else \
                (in_stream.average_rate or in_stream.guessed_rate or Fraction(30))
            stream = None
            for frame in source.decode(in_stream):
                image = _even(draw_label(frame.to_ndarray(format='rgb24'), text))
                if stream is None:
                    stream = out.add_stream(codec, rate=rate)
                    stream.width, stream.height = image.shape[1], image.shape[0]
                    stream.pix_fmt = 'yuv420p'
                    stream.options = {'crf': str(crf)}
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format='rgb24')):
                    out.mux(packet)
                count += 1
            if stream is None:
                raise ValueError(f'{src}: no frame could be decoded')
            for packet in stream.encode():
                out.mux(packet)
    return count
