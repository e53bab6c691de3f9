"""tools/data/resize_videos.py and tools/data/build_rawframes.py on small generated videos:
frames kept one for one, sizes, keyframes, audio dropped, resumable and atomic runs, the
failure list, and frames that RawframeDataset reads as the video's."""
import contextlib
import importlib.util
import io
import os
import os.path as osp
import shutil
import sys
import types
from fractions import Fraction

import av
import numpy as np
import pytest

from mmaction.datasets import preparation
from mmaction.engine.launch import run_tool
from .conftest import HEIGHT, NUM_FRAMES, WIDTH, encode, frame_index, pattern_frame

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FPS = 25


def tool(script, *args):
    """Run a tool's ``main`` in this process (as ``run_tool`` does, without a new
    interpreter): its exit status and what it printed."""
    name = osp.splitext(osp.basename(script))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, script))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        returncode = run_tool(module.main, list(args))
    return types.SimpleNamespace(returncode=returncode, stdout=out.getvalue(),
                                 stderr=err.getvalue())


def with_audio(path, num_frames=NUM_FRAMES):
    """An mp4 with the pattern video (one GOP: FFmpeg's default keyframe interval is longer
    than the clip) and an AAC audio stream."""
    with av.open(str(path), 'w') as container:
        video = container.add_stream('libx264', rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, 'yuv420p'
        video.options = {'crf': '8'}
        audio = container.add_stream('aac', rate=16000)
        for i in range(num_frames):
            for packet in video.encode(av.VideoFrame.from_ndarray(pattern_frame(i), 'rgb24')):
                container.mux(packet)
        for i in range(num_frames * 16000 // FPS // 1024):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format='fltp',
                                               layout='mono')
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in audio.encode(frame):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode():
                container.mux(packet)
    return str(path)


def shown_index(img: np.ndarray) -> int:
    """``frame_index`` of a pattern frame, read away from the edge a resize blurs."""
    w = img.shape[1]
    return frame_index(np.concatenate([img[:, 2:w // 2 - 4]] * 2, axis=1))


def probe(path):
    """(width, height, average fps, video packets, keyframe positions, decoded frames as
    pattern indices, number of audio streams)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size > 0]
        keys = [i for i, p in enumerate(packets) if p.is_keyframe]
        fps, width, height = stream.average_rate, stream.width, stream.height
        audio = len(container.streams.audio)
    with av.open(str(path)) as container:
        shown = [shown_index(f.to_ndarray(format='rgb24')) for f in container.decode(video=0)]
    return width, height, fps, len(packets), keys, shown, audio


@pytest.fixture
def source(tmp_path):
    src = tmp_path / 'src'
    (src / 'class_a').mkdir(parents=True)
    with_audio(src / 'class_a' / 'one.mp4')
    encode(src / 'two.webm', 'libvpx-vp9', gop=250, options={'crf': '8', 'b:v': '0'})
    (src / 'notes.txt').write_text('not a video')
    return src


# ---------------------------------------------------------------------------- resize_videos
def test_resize_keeps_frames_and_rate_sets_size_and_keyframes_drops_audio(source, tmp_path):
    before = probe(source / 'class_a' / 'one.mp4')
    assert before[2] == FPS and before[3] == NUM_FRAMES and before[4] == [0] and before[6] == 1
    dst = tmp_path / 'dst'
    proc = tool('tools/data/resize_videos.py', str(source), str(dst), '--short-side', '32',
                '--keyint', '8', '--nproc', '2')
    assert proc.returncode == 0, proc.stderr
    assert '2 videos written, 0 already there (skipped), 0 failed' in proc.stdout
    assert '1 files under' in proc.stdout  # notes.txt, passed over and counted
    for rel in ('class_a/one.mp4', 'two.mp4'):  # relative paths kept, always .mp4
        width, height, fps, packets, keys, shown, audio = probe(dst / rel)
        # 64x48 -> short side 32, long side 64 * 32 / 48 = 42.7 -> the even 42
        assert (width, height) == (42, 32)
        assert fps == FPS and isinstance(fps, Fraction)
        assert packets == NUM_FRAMES
        assert shown == list(range(NUM_FRAMES))  # every frame, once, in order
        assert audio == 0
        assert keys[0] == 0 and max(np.diff(keys + [NUM_FRAMES])) <= 8
    with av.open(str(dst / 'two.mp4')) as container:
        assert container.streams.video[0].codec_context.name == 'h264'
        assert container.streams.video[0].codec_context.pix_fmt == 'yuv420p'


def test_output_size_rounds_to_even_and_never_upscales_unless_asked():
    size = preparation.output_size
    assert size(340, 256, 256) == (340, 256)  # already there
    assert size(1280, 720, 256) == (456, 256)  # 455.1 -> 456 (nearest even)
    assert size(720, 1280, 256) == (256, 456)  # portrait: the width is the short side
    assert size(300, 200, 256) == (300, 200)  # smaller: kept
    assert size(300, 200, 256, upscale=True) == (384, 256)
    assert size(301, 201, 256) == (300, 200)  # odd sizes: rounded down to even
    assert size(1280, 720, None) == (1280, 720)


def test_resize_default_keyint_is_x264s(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    texture = np.kron(np.random.default_rng(0).integers(0, 256, (4, 4, 3), np.uint8),
                      np.ones((8, 8, 1), np.uint8))
    pan = [np.roll(texture, i, axis=1) for i in range(260)]  # no scene cut
    encode(src / 'long.mp4', num_frames=260, gop=260, width=32, height=32, frames=pan)
    proc = tool('tools/data/resize_videos.py', str(src), str(tmp_path / 'dst'),
                '--short-side', '0', '--nproc', '1')
    assert proc.returncode == 0, proc.stderr
    *_, packets, keys, _, _ = probe(tmp_path / 'dst' / 'long.mp4')
    assert packets == 260 and keys == [0, 250]  # x264's keyint 250
    # x264 writes its settings into the stream: --tune reaches it
    assert b'cabac=1' in (tmp_path / 'dst' / 'long.mp4').read_bytes()
    proc = tool('tools/data/resize_videos.py', str(src), str(tmp_path / 'fast'),
                '--short-side', '0', '--keyint', '16', '--tune', 'fastdecode', '--nproc', '1')
    assert proc.returncode == 0, proc.stderr
    data = (tmp_path / 'fast' / 'long.mp4').read_bytes()
    assert b'cabac=0' in data and b'deblock=0' in data and b'keyint=16 ' in data


def test_resize_is_resumable_and_ignores_what_an_interrupted_run_left(source, tmp_path):
    dst = tmp_path / 'dst'
    args = ('tools/data/resize_videos.py', str(source), str(dst), '--short-side', '32',
            '--nproc', '1')
    assert tool(*args).returncode == 0
    done = dst / 'class_a' / 'one.mp4'
    stamp = os.stat(done).st_mtime_ns
    # the other video was being written when the run was killed: only its temporary file
    os.remove(dst / 'two.mp4')
    stale = dst / '.two.mp4.99999.tmp'
    stale.write_bytes(b'half a video')
    proc = tool(*args)
    assert proc.returncode == 0, proc.stderr
    assert '1 videos written, 1 already there (skipped), 0 failed' in proc.stdout
    assert os.stat(done).st_mtime_ns == stamp  # not rewritten
    assert probe(dst / 'two.mp4')[3] == NUM_FRAMES
    assert not stale.exists()


def test_an_interrupted_conversion_leaves_no_file(source, tmp_path, monkeypatch):
    real = preparation._decoded

    def five_then_interrupt(container, stream):
        for i, frame in enumerate(real(container, stream)):
            if i == 5:
                raise KeyboardInterrupt
            yield frame

    monkeypatch.setattr(preparation, '_decoded', five_then_interrupt)
    for func, out in ((preparation.resize_video, tmp_path / 'v' / 'one.mp4'),
                      (preparation.extract_frames, tmp_path / 'f' / 'one')):
        with pytest.raises(KeyboardInterrupt):
            func(str(source / 'class_a' / 'one.mp4'), str(out))
        assert os.listdir(out.parent) == []  # neither the output nor a temporary


def test_failures_are_listed_and_make_the_exit_status_nonzero(source, tmp_path):
    (source / 'broken.mp4').write_bytes(np.random.default_rng(0).bytes(4096))
    for script, out in (('resize_videos.py', 'two.mp4'), ('build_rawframes.py', 'two')):
        dst = tmp_path / script
        proc = tool(f'tools/data/{script}', str(source), str(dst), '--nproc', '2')
        assert proc.returncode == 1, proc.stderr
        assert '2 ' in proc.stdout and '1 failed' in proc.stdout
        failed = proc.stdout.split('FAILED (1)')[1].strip().splitlines()[1:]
        assert len(failed) == 1 and failed[0].startswith(f'  {source / "broken.mp4"}\t')
        assert (dst / out).exists()
        assert not any(n.startswith(('broken', '.broken')) for n in os.listdir(dst))


def _exit_worker(src, dst):
    os._exit(3)  # as a worker the OOM killer takes, or a decoder crash, ends


def test_a_worker_that_dies_fails_its_job_instead_of_hanging_the_run(tmp_path):
    """multiprocessing.Pool waits forever for the result of a worker that died; the run must
    instead end and list the job as failed, to be retried by running it again."""
    import threading
    jobs = [(_exit_worker, 'a.mp4', str(tmp_path / 'a.mp4'), {})]
    out = []
    runner = threading.Thread(target=lambda: out.append(preparation.run_jobs(jobs, nproc=2)),
                              daemon=True)
    runner.start()
    runner.join(timeout=120)
    assert out, 'run_jobs did not return after its worker died'
    (dst, status, reason), = out[0]
    assert (dst, status) == (str(tmp_path / 'a.mp4'), 'failed')
    assert 'worker process died' in reason and 'run the command again' in reason


# ---------------------------------------------------------------------------- rawframes
def test_rawframes_layout_list_and_resume(source, tmp_path):
    video_list = tmp_path / 'toy_train_list_videos.txt'
    video_list.write_text('two.webm 1\nclass_a/one.mp4 0\n')
    dst = tmp_path / 'rawframes'
    args = ('tools/data/build_rawframes.py', str(source), str(dst), '--video-list',
            str(video_list), '--nproc', '1', '--quality', '90')
    proc = tool(*args)
    assert proc.returncode == 0, proc.stderr
    names = sorted(os.listdir(dst / 'class_a' / 'one'))
    assert names == [f'img_{i:05d}.jpg' for i in range(1, NUM_FRAMES + 1)]
    import cv2
    for i in (1, 17, NUM_FRAMES):  # frame img_0000i is the video's frame i - 1
        img = cv2.imread(str(dst / 'class_a' / 'one' / f'img_{i:05d}.jpg'))[..., ::-1]
        assert img.shape == (HEIGHT, WIDTH, 3) and frame_index(img) == i - 1
    listing = tmp_path / 'toy_train_list_rawframes.txt'
    assert listing.read_text() == f'two {NUM_FRAMES} 1\nclass_a/one {NUM_FRAMES} 0\n'
    # again, after a run killed while extracting 'two': its half folder is not taken as done
    shutil.rmtree(dst / 'two')
    os.makedirs(dst / '.two.4242.tmp')
    (dst / '.two.4242.tmp' / 'img_00001.jpg').write_bytes(b'')
    os.remove(listing)
    proc = tool(*args)
    assert '1 frame folders written, 1 already there (skipped), 0 failed' in proc.stdout
    assert listing.read_text() == f'two {NUM_FRAMES} 1\nclass_a/one {NUM_FRAMES} 0\n'
    assert sorted(os.listdir(dst)) == ['class_a', 'two']


def test_rawframes_chroma_sampling(source, tmp_path):
    pytest.importorskip('PIL')
    from PIL import Image, JpegImagePlugin
    for chroma, sampling in (('420', 2), ('444', 0)):  # PIL's codes: 4:2:0 is 2, 4:4:4 is 0
        out = tmp_path / chroma
        preparation.extract_frames(str(source / 'class_a' / 'one.mp4'), str(out), chroma=chroma)
        with Image.open(out / 'img_00001.jpg') as img:
            assert JpegImagePlugin.get_sampling(img) == sampling


def test_rawframes_name_follows_the_video_lists():
    sys.path.insert(0, osp.join(REPO, 'tools', 'data'))
    try:
        from build_rawframes import rawframes_list_name
    finally:
        sys.path.pop(0)
    assert rawframes_list_name('d/kinetics400_val_list_videos.txt') == \
        'd/kinetics400_val_list_rawframes.txt'
    assert rawframes_list_name('d/train_video_list.txt') == 'd/train_rawframe_list.txt'
    assert rawframes_list_name('d/train.txt') == 'd/train_rawframes.txt'


def two_digit_frame(i: int) -> np.ndarray:
    """Frame ``i`` (< 150) showing its tens on the left half, its units on the right."""
    img = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    img[:, :WIDTH // 2], img[:, WIDTH // 2:] = 20 + 12 * (i // 10), 20 + 20 * (i % 10)
    return img


def two_digit_index(img: np.ndarray) -> int:
    left, right = img[:, 4:WIDTH // 2 - 4].mean(), img[:, WIDTH // 2 + 4:-4].mean()
    return 10 * int(round((left - 20) / 12)) + int(round((right - 20) / 20))


def test_rawframe_dataset_samples_the_frames_of_the_video(tmp_path):
    """The shipped K400 training pipeline (32 frames 4 apart) on a video and on its
    extracted frames: the same frame indices, and frames showing those indices."""
    from mmengine.config import Config

    from mmaction.datasets import RawframeDataset, VideoDataset
    from mmaction.datasets.sampler import SeededIndex
    src = tmp_path / 'src'
    src.mkdir()
    encode(src / 'v.mp4', num_frames=150, gop=250, options={'crf': '8'},
           frames=[two_digit_frame(i) for i in range(150)])
    (tmp_path / 'videos.txt').write_text('v.mp4 3\n')
    proc = tool('tools/data/build_rawframes.py', str(src), str(tmp_path / 'frames'),
                '--video-list', str(tmp_path / 'videos.txt'), '--nproc', '1')
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / 'rawframes.txt').read_text() == 'v 150 3\n'
    steps = Config.fromfile(osp.join(REPO, 'configs/recognition/vit/vitclip_base_k400.py')
                            ).train_pipeline
    assert [s['type'] for s in steps[:3]] == ['PyAVInit', 'SampleFrames', 'PyAVDecode']
    seen = {}

    def record(form):
        def step(results):
            seen[form] = (np.asarray(results['frame_inds']) - results['start_index'],
                          [two_digit_index(img) for img in results['imgs']])
            return results
        return step

    video = VideoDataset(str(tmp_path / 'videos.txt'), steps[:3] + [record('video')] +
                         steps[3:], data_prefix=str(src))
    frames = RawframeDataset(str(tmp_path / 'rawframes.txt'),
                             [steps[1], dict(type='RawFrameDecode'), record('frames')] +
                             steps[3:], data_prefix=str(tmp_path / 'frames'))
    for seed in range(3):
        a, b = video[SeededIndex(0, seed)], frames[SeededIndex(0, seed)]
        assert np.array_equal(seen['video'][0], seen['frames'][0])
        assert seen['video'][1] == seen['frames'][1] == seen['video'][0].tolist()
        assert a['inputs'].shape == b['inputs'].shape == (1, 3, 32, 224, 224)
