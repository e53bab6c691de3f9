"""PyAV with a cached packet index: a video opened again is not demuxed again, the decoder
seeks to the keyframes it needs, and the frames are bit for bit those of a full decode."""
import os
import os.path as osp
import pickle
import warnings
from fractions import Fraction

import av
import numpy as np
import pytest

from mmaction.datasets.transforms import PyAVDecode, PyAVInit, loading
from .conftest import HEIGHT, WIDTH

FRAMES = {'gop250_b3': 300, 'gop16_b3': 120, 'gop16_no_b': 120, 'gop16_open': 120,
          'vfr_gop16_b3': 90, 'vp9_gop16': 48, 'avi_b3': 40}


def _frame(i, seed=0):
    """A texture panning 1 px per frame over a still one (every pixel differs between frames,
    and inter prediction still works, so the GOP structure is the one asked for)."""
    tex = np.random.default_rng(seed).integers(0, 256, (HEIGHT, 2 * WIDTH, 3), dtype=np.uint8)
    img = tex[:, WIDTH:].copy()
    img[:, :WIDTH // 2] = np.roll(tex[:, :WIDTH], i, axis=1)[:, :WIDTH // 2]
    return img


def _x264(keyint, bframes, open_gop=False):
    params = f'keyint={keyint}:min-keyint={keyint}:scenecut=0:bframes={bframes}'
    return {'x264-params': params + (':open-gop=1' if open_gop else ''), 'crf': '12'}


def _encode(path, encoder, options, num_frames, durations=None, seed=0):
    """``durations`` (ms per frame, cycled): variable frame rate, stamps in 1/1000 s."""
    with av.open(str(path), 'w') as container:
        stream = container.add_stream(encoder, rate=25)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, 'yuv420p'
        stream.options = dict(options)
        if durations:
            stream.codec_context.time_base = Fraction(1, 1000)
        t = 0
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(_frame(i, seed), format='rgb24')
            if durations:
                frame.pts, frame.time_base = t, Fraction(1, 1000)
                t += durations[i % len(durations)]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return str(path)


@pytest.fixture(scope='module')
def seek_videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('seek')
    n = FRAMES
    return {
        'gop250_b3': _encode(root / 'gop250_b3.mp4', 'libx264', _x264(250, 3), n['gop250_b3']),
        'gop16_b3': _encode(root / 'gop16_b3.mp4', 'libx264', _x264(16, 3), n['gop16_b3']),
        'gop16_no_b': _encode(root / 'gop16_no_b.mp4', 'libx264', _x264(16, 0), n['gop16_no_b']),
        'gop16_open': _encode(root / 'gop16_open.mp4', 'libx264', _x264(16, 3, open_gop=True),
                              n['gop16_open']),
        'vfr_gop16_b3': _encode(root / 'vfr.mp4', 'libx264', _x264(16, 3), n['vfr_gop16_b3'],
                                durations=[20, 33, 50, 41, 17]),
        'vp9_gop16': _encode(root / 'vp9.webm', 'libvpx-vp9',
                             {'crf': '10', 'b:v': '0', 'g': '16', 'deadline': 'realtime'},
                             n['vp9_gop16']),
        # AVI stamps packets in decode order: not presentation stamps with B-frames
        'avi_b3': _encode(root / 'b3.avi', 'libx264', _x264(12, 3), n['avi_b3']),
    }


def _reference(path):
    """Every frame, decoded front to back by FFmpeg through PyAV (the independent formulation)."""
    with av.open(path) as container:
        return np.stack([f.to_ndarray(format='rgb24') for f in container.decode(video=0)])


def _index_sets(total):
    """Unsorted, repeated, first and last frames; a 32x4 training clip; one late frame."""
    mixed = [total - 1, 0, 3, 3, total // 2, total // 2 - 1, 17, total - 2, 1, 17]
    start = max(0, total - 128) // 2
    return [mixed, list(range(start, min(total, start + 128), 4)), [total - 1]]


def _decode(init, path, inds, **kwargs):
    results = init(dict(filename=path))
    results['frame_inds'] = np.asarray(inds)
    return PyAVDecode(**kwargs)(results)


@pytest.mark.parametrize('name', [n for n in FRAMES if n != 'avi_b3'])
def test_a_cached_index_gives_the_frames_of_a_full_decode(seek_videos, name):
    path = seek_videos[name]
    reference = _reference(path)
    assert len(reference) == FRAMES[name]
    init = PyAVInit()
    cold = init(dict(filename=path))  # builds the index: the packets are demuxed
    assert cold['total_frames'] == FRAMES[name] and cold['video_reader'].packets is not None
    cold['video_reader'].close()
    if name.startswith('vfr'):  # the stream really has uneven frame durations
        steps = np.diff(np.sort(cold['video_reader'].index.pts))
        assert len(set(steps.tolist())) > 2
    for inds in _index_sets(FRAMES[name]):
        results = init(dict(filename=path))
        video = results['video_reader']
        assert results['total_frames'] == FRAMES[name]
        assert video.packets is None and video.index.seekable  # nothing demuxed: it seeks
        results['frame_inds'] = np.asarray(inds)
        with warnings.catch_warnings():
            warnings.simplefilter('error')  # no fallback
            imgs = PyAVDecode()(results)['imgs']
        np.testing.assert_array_equal(imgs, reference[inds])
        # and the same as without the cache
        np.testing.assert_array_equal(imgs, _decode(PyAVInit(index_cache_mb=0), path,
                                                    inds)['imgs'])
    assert init._indexes.hits == 3 and init._indexes.misses == 1
    efficient = [_decode(i, path, [5, FRAMES[name] - 1, 40], mode='efficient')['imgs']
                 for i in (init, PyAVInit(index_cache_mb=0))]
    np.testing.assert_array_equal(*efficient)


class _CountingContainer:
    """A container whose demuxed packets are counted."""

    def __init__(self, container):
        self.container, self.read = container, 0

    def demux(self, *args):
        for packet in self.container.demux(*args):
            self.read += packet.size > 0
            yield packet

    def __getattr__(self, name):
        return getattr(self.container, name)


def test_a_cached_video_reads_only_the_packets_from_the_keyframe_before(seek_videos):
    path = seek_videos['gop16_no_b']  # keyframes at 0, 16, ..., 112; decode order = display
    init = PyAVInit()
    init(dict(filename=path))['video_reader'].close()
    results = init(dict(filename=path))
    counting = results['video_reader'].container = _CountingContainer(
        results['video_reader'].container)
    results['frame_inds'] = np.array([50, 51, 100])  # from keyframe 48 to 51, 96 to 100
    imgs = PyAVDecode()(results)['imgs']
    np.testing.assert_array_equal(imgs, _reference(path)[[50, 51, 100]])
    # 48..51 and 96..100; the demuxer may hand a packet or two more before it stops
    assert 9 <= counting.read <= 12


def test_the_index_cache_follows_the_file_and_drops_the_least_recently_used(tmp_path):
    path = tmp_path / 'clip.mp4'
    _encode(path, 'libx264', _x264(8, 2), 24)
    init = PyAVInit()
    assert init(dict(filename=str(path)))['total_frames'] == 24
    assert init(dict(filename=str(path)))['video_reader'].packets is None  # cached
    # replaced in place (another file, as an atomic rewrite makes it): indexed anew
    _encode(tmp_path / 'new.mp4', 'libx264', _x264(8, 2), 32, seed=1)
    os.replace(tmp_path / 'new.mp4', path)
    results = init(dict(filename=str(path)))
    assert results['total_frames'] == 32 and results['video_reader'].packets is not None
    results['frame_inds'] = np.array([31, 2])
    np.testing.assert_array_equal(PyAVDecode()(results)['imgs'],
                                  _reference(str(path))[[31, 2]])

    files = [_encode(tmp_path / f'{c}.mp4', 'libx264', _x264(8, 2), 24) for c in 'abc']
    first = PyAVInit()(dict(filename=files[0]))['video_reader'].index
    init = PyAVInit(index_cache_mb=2.5 * first.nbytes / 2**20)  # room for two
    for f in files:
        init(dict(filename=f))['video_reader'].close()
    assert init(dict(filename=files[2]))['video_reader'].packets is None
    assert init(dict(filename=files[0]))['video_reader'].packets is not None  # dropped
    assert init._indexes.nbytes <= init._indexes.limit
    # a pickled copy (a spawned worker) starts empty; off keeps nothing
    assert len(pickle.loads(pickle.dumps(init))._indexes.entries) == 0
    off = PyAVInit(index_cache_mb=0)
    off(dict(filename=files[0]))['video_reader'].close()
    assert off(dict(filename=files[0]))['video_reader'].packets is not None
    with pytest.raises(ValueError, match='index_cache_mb'):
        PyAVInit(index_cache_mb=-1)


def test_a_seek_that_misses_the_indexed_packets_falls_back_with_one_warning(
        seek_videos, monkeypatch):
    monkeypatch.setattr(loading, '_WARNED', set())

    def last_keyframe(self, start):  # a demuxer that lands on a later keyframe
        return int(self.index.seek_ts[-1])

    monkeypatch.setattr(loading._PyAVVideo, 'seek_target', last_keyframe)
    init = PyAVInit()
    inds = [20, 21, 3]
    with pytest.warns(UserWarning, match='seeking misses the indexed packets') as record:
        for name in ('gop16_b3', 'gop16_no_b'):
            path = seek_videos[name]
            init(dict(filename=path))['video_reader'].close()
            np.testing.assert_array_equal(_decode(init, path, inds)['imgs'],
                                          _reference(path)[inds])
            # the file is not seeked again: its packets are demuxed at opening
            video = init(dict(filename=path))['video_reader']
            assert video.index.seekable is False
            video.close()
    assert len([w for w in record if 'seeking' in str(w.message)]) == 1


def test_untrusted_timestamps_decode_from_the_start_with_one_warning(seek_videos,
                                                                     monkeypatch):
    monkeypatch.setattr(loading, '_WARNED', set())
    path = seek_videos['avi_b3']
    reference = _reference(path)
    init = PyAVInit()
    inds = [39, 1, 3, 3, 12, 0]
    with pytest.warns(UserWarning, match='no usable presentation timestamps') as record:
        for _ in range(3):
            results = init(dict(filename=path))
            assert not results['video_reader'].exact
            results['frame_inds'] = np.asarray(inds)
            np.testing.assert_array_equal(PyAVDecode()(results)['imgs'], reference[inds])
    assert len([w for w in record if 'presentation timestamps' in str(w.message)]) == 1


def _threads():
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('Threads:'))


@pytest.mark.skipif(not osp.exists('/proc/self/status'), reason='counts threads in /proc')
@pytest.mark.parametrize('multi_thread', [False, True])
def test_the_decoder_runs_on_the_worker_thread_alone(seek_videos, monkeypatch, multi_thread):
    """One thread per data-loader worker: FFmpeg's decoder starts no threads of its own
    (unless ``multi_thread``, which shows that the count sees them)."""
    if multi_thread and (os.cpu_count() or 1) < 2:
        pytest.skip('FFmpeg starts no frame threads on one core')
    seen = []
    rgb = PyAVDecode._rgb

    def counting(self, frame):
        seen.append(_threads())
        return rgb(self, frame)

    monkeypatch.setattr(PyAVDecode, '_rgb', counting)
    before = _threads()
    _decode(PyAVInit(), seek_videos['gop16_b3'], [3, 60], multi_thread=multi_thread)
    assert (max(seen) > before) if multi_thread else (max(seen) == before)
