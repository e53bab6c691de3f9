"""Small real video files for the data tests, encoded with PyAV.

Frame ``i`` of every test video has its left half grey at level ``8 + 6 * i`` and its right
half pure red, so a decoded frame tells its own index (``frame_index``) and channel order.
"""
import os

import av
import cv2
import numpy as np
import pytest

WIDTH, HEIGHT, NUM_FRAMES = 64, 48, 40
LEVEL0, STEP = 8, 6


def pattern_frame(i: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    img = np.zeros((height, width, 3), np.uint8)
    img[:, :width // 2] = LEVEL0 + STEP * i
    img[:, width // 2:] = (255, 0, 0)
    return img


def frame_index(frame: np.ndarray) -> int:
    """The index a decoded (H, W, 3) RGB pattern frame shows."""
    return int(round((frame[:, :frame.shape[1] // 2].mean() - LEVEL0) / STEP))


def encode(path, codec: str = 'libx264', num_frames: int = NUM_FRAMES, gop: int = 12,
           options=None, container_options=None, fps: int = 25, frames=None,
           width: int = WIDTH, height: int = HEIGHT) -> str:
    with av.open(str(path), 'w', options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, 'yuv420p'
        stream.codec_context.gop_size = gop
        stream.options = dict(options or {})
        for i in range(num_frames):
            img = pattern_frame(i, width, height) if frames is None else frames[i]
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return str(path)


@pytest.fixture(scope='session')
def videos(tmp_path_factory):
    """Good videos (h264 with B-frames, h264 as one long GOP, VP9 and VP8 webm, a 48x48 h264
    that decord 0.6 cannot decode) and bad ones (missing, empty, garbage, audio only,
    truncated)."""
    root = tmp_path_factory.mktemp('videos')
    out = dict(
        h264=encode(root / 'h264.mp4', options={'crf': '8', 'bf': '3'}),
        h264_one_gop=encode(root / 'h264_one_gop.mp4', gop=250, options={'crf': '8'}),
        vp9=encode(root / 'vp9.webm', 'libvpx-vp9', options={'crf': '8', 'b:v': '0'}),
        vp8=encode(root / 'vp8.webm', 'libvpx', options={'crf': '4', 'b:v': '2M'}),
        # valid, but decord 0.6 hands back 4 bytes per pixel for it and fails to copy them
        small=encode(root / 'small.mp4', options={'crf': '8', 'bf': '3'}, width=48,
                     height=48),
    )
    out['missing'] = str(root / 'missing.mp4')
    out['empty'] = str(root / 'empty.mp4')
    open(out['empty'], 'wb').close()
    out['garbage'] = str(root / 'garbage.mp4')
    with open(out['garbage'], 'wb') as f:
        f.write(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    out['audio_only'] = str(root / 'audio_only.mp4')
    with av.open(out['audio_only'], 'w') as container:
        stream = container.add_stream('aac', rate=16000)
        for i in range(8):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format='fltp',
                                               layout='mono')
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with open(out['h264'], 'rb') as f:  # the index (moov) is at the end: half a file has none
        data = f.read()
    out['truncated'] = str(root / 'truncated.mp4')
    with open(out['truncated'], 'wb') as f:
        f.write(data[:len(data) // 2])
    return out


@pytest.fixture(scope='session')
def frame_folder(tmp_path_factory):
    """A folder of PNG pattern frames img_00001.png ... (frame i at index i - 1)."""
    root = tmp_path_factory.mktemp('frames') / 'clip'
    os.makedirs(root)
    for i in range(NUM_FRAMES):
        cv2.imwrite(str(root / f'img_{i + 1:05}.png'), pattern_frame(i)[..., ::-1])
    return str(root)
