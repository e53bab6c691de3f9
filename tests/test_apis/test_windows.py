"""Sliding-window recognition: demo/long_video_demo.py's timeline and demo/webcam_demo.py's
rolling prediction against inference_recognizer on the same frames cut by hand, and window
boundaries against hand-computed ones."""
import importlib.util
import json
import os.path as osp

import av
import cv2
import numpy as np
import pytest

from mmaction.apis import inference_recognizer, init_recognizer, window_bounds
from mmaction.apis.windows import SlidingWindows, WindowError, frame_windows
from mmaction.engine.launch import run_tool
from mmaction.synthetic.videos import write_mp4

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, 'demo', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _decode(path):
    with av.open(path) as container:
        return np.stack([f.to_ndarray(format='rgb24') for f in container.decode(video=0)])


@pytest.mark.parametrize('num_frames, window, stride, expected', [
    (20, 8, 4, [(0, 8), (4, 12), (8, 16), (12, 20)]),
    (21, 8, 4, [(0, 8), (4, 12), (8, 16), (12, 20), (13, 21)]),  # one more to the last frame
    (20, 8, 20, [(0, 8), (12, 20)]),
    (8, 8, 3, [(0, 8)]),
    (5, 8, 3, [(0, 5)]),  # shorter than a window: all of it
    (0, 8, 3, []),
])
def test_window_bounds_by_hand(num_frames, window, stride, expected):
    assert window_bounds(num_frames, window, stride) == expected


@pytest.mark.parametrize('num_frames, window, stride', [(23, 6, 4), (7, 6, 1), (3, 6, 2),
                                                        (30, 5, 5)])
def test_streamed_windows_are_the_frames_cut_by_hand(num_frames, window, stride):
    frames = np.arange(num_frames).reshape(-1, 1, 1, 1) * np.ones((1, 2, 2, 3), np.int64)
    streamed = SlidingWindows(window, stride)
    got = [r for r in (streamed.push(f) for f in frames) if r is not None]
    tail = streamed.finish()
    got += [tail] if tail is not None else []
    assert streamed.finish() is None  # given once
    assert [(s, e) for s, e, _ in got] == window_bounds(num_frames, window, stride)
    for start, end, cut in got:
        np.testing.assert_array_equal(cut, frames[start:end])
    assert len(streamed.frames) <= window  # no more than a window kept


def test_each_frame_shows_the_window_centred_nearest():
    timeline = dict(num_frames=10, windows=[dict(start_frame=0, end_frame=6),
                                            dict(start_frame=4, end_frame=10)])
    # centres 3 and 7: frames 0-4 nearer the first (frame 4: 1.5 vs 2.5), 5-9 the second
    assert frame_windows(timeline).tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]


@pytest.fixture(scope='module')
def long_video(tiny_run):
    """Three clips of the benchmark one after the other: 36 frames at 16 fps."""
    frames = np.concatenate([_decode(tiny_run['records'][i]['filename']) for i in range(3)])
    path = str(tiny_run['root'] / 'long' / 'long.mp4')
    write_mp4(path, frames, fps=16)
    return path


@pytest.fixture(scope='module')
def model(tiny_run):
    return init_recognizer(tiny_run['config'], tiny_run['checkpoint'],
                           cfg_options=tiny_run['options'])


def _options(tiny_run):
    return ['--cfg-options', *(f'{k}={v}' for k, v in tiny_run['options'].items())]


def test_long_video_timeline_is_inference_on_each_window(tiny_run, long_video, model, tmp_path):
    out_json, out_video = tmp_path / 'timeline.json', tmp_path / 'annotated.mp4'
    _load('long_video_demo').main(
        [long_video, tiny_run['config'], tiny_run['checkpoint'], tiny_run['label_map'],
         '--out', str(out_video), '--json', str(out_json), '--window', '12', '--stride', '10',
         '--topk', '2', '--threshold', '0', *_options(tiny_run)])
    timeline = json.loads(out_json.read_text())
    frames = _decode(long_video)
    assert len(frames) == timeline['num_frames'] == 36
    # starts 0, 10, 20 (22 + 12 > 36 stops them), then one window ending at frame 36
    bounds = [(0, 12), (10, 22), (20, 32), (24, 36)]
    assert [(w['start_frame'], w['end_frame']) for w in timeline['windows']] == bounds
    assert [(w['start_sec'], w['end_sec']) for w in timeline['windows']] == \
        [(s / 16, e / 16) for s, e in bounds]
    names = open(tiny_run['label_map']).read().split()
    for (start, end), record in zip(bounds, timeline['windows']):
        top = inference_recognizer(model, frames[start:end], topk=2, label_names=names)
        assert [(e['label'], e['name'], e['score']) for e in record['labels']] == top
    written = _decode(str(out_video))
    assert written.shape == frames.shape
    # the labels' boxes (two lines) cover the top rows; below them the video is unchanged
    diff = np.abs(written.astype(int) - frames.astype(int))
    assert diff[:, :6].mean(axis=(1, 2, 3)).min() > 30
    assert diff[:, 40:].mean() < 4


def test_aim_argument_order_and_stride_share(tiny_run, long_video, tmp_path, capsys):
    out_json = tmp_path / 'aim.json'
    timeline = _load('long_video_demo').main(
        [tiny_run['config'], tiny_run['checkpoint'], long_video, tiny_run['label_map'],
         str(out_json), '--window', '12', '--stride', '0.5', *_options(tiny_run)])
    assert "AIM's order" in capsys.readouterr().out
    assert timeline['stride'] == 6 and out_json.is_file()
    assert [w['start_frame'] for w in timeline['windows']] == [0, 6, 12, 18, 24]


def test_webcam_demo_on_a_file_is_rolling_inference(tiny_run, long_video, model, tmp_path,
                                                    capsys):
    out_video = tmp_path / 'webcam.mp4'
    predictions = _load('webcam_demo').main(
        [tiny_run['config'], tiny_run['checkpoint'], tiny_run['label_map'], '--source',
         long_video, '--no-display', '--window', '12', '--stride', '8', '--average-size', '2',
         '--topk', '2', '--threshold', '0', '--out', str(out_video), '--max-frames', '30',
         *_options(tiny_run)])
    capture, frames = cv2.VideoCapture(long_video), []  # OpenCV's decoding, as the demo's
    while len(frames) < 30:
        ok, bgr = capture.read()
        assert ok
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    frames = np.stack(frames)
    ends = [12, 20, 28]
    assert [p['frame'] for p in predictions] == ends
    scores = [inference_recognizer(model, frames[e - 12:e], return_scores=True)[1]
              for e in ends]
    for i, prediction in enumerate(predictions):
        mean = np.mean([s.mean(0) if s.ndim == 2 else s for s in scores[max(0, i - 1):i + 1]],
                       axis=0)
        order = np.argsort(-mean, kind='stable')[:2]
        assert [e['label'] for e in prediction['labels']] == order.tolist()
        np.testing.assert_allclose([e['score'] for e in prediction['labels']], mean[order],
                                   rtol=1e-6)
    printed = capsys.readouterr().out
    assert 'frame 12: ' in printed and '30 frames read, 3 recognitions' in printed
    assert len(_decode(str(out_video))) == 30


@pytest.mark.parametrize('argv, message', [
    (['--window', '0'], 'window must be a positive whole number, got 0'),
    (['--stride', 'x'], "--stride must be a number of frames (8) or a share of the window"),
    (['--out', 'a.gif'], "--out a.gif: the annotated video is written as h264"),
])
def test_long_video_mistakes_are_one_message(tiny_run, long_video, argv, message, capsys):
    status = run_tool(_load('long_video_demo').main,
                      [long_video, tiny_run['config'], tiny_run['checkpoint'],
                       tiny_run['label_map'], *argv, *_options(tiny_run)])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith('error: ') and message in err, err


def test_a_label_map_of_another_length_is_one_message(tiny_run, long_video, tmp_path, capsys):
    labels = tmp_path / 'labels.txt'
    labels.write_text('a\nb\nc\n')
    for name, argv in (('long_video_demo', [long_video, tiny_run['config']]),
                       ('webcam_demo', [tiny_run['config']])):
        rest = [tiny_run['checkpoint'], str(labels)] + (
            ['--source', long_video, '--no-display'] if name == 'webcam_demo' else [])
        status = run_tool(_load(name).main, argv + rest + _options(tiny_run))
        err = capsys.readouterr().err
        assert status == 2 and '3 label names for a model with 2 classes' in err, err


def test_window_arguments_are_checked():
    with pytest.raises(WindowError, match='stride must be a positive whole number'):
        window_bounds(10, 4, 0)
