"""Preparing videos once, before training: re-encoding to a short side and a short keyframe
interval (``tools/data/resize_videos.py``) and extracting JPEG frames
(``tools/data/build_rawframes.py``).

Both are functions of one source file and one output path that either finish the output or
leave nothing: a video is written to a hidden temporary file and renamed
(:func:`mmaction.utils.fileio.atomic_write`), a frame folder is filled under a hidden
temporary name and renamed when its last frame is written. An output that exists is
therefore complete, and a run started again skips it (:func:`run_jobs`); what an
interrupted run left behind under a temporary name is removed, never taken as done.

Frames are kept one for one: every frame the decoder outputs is encoded (or written), in
order, so the frame count, and hence the frame indices a sampler draws, stay those of the
source. Sizes are scaled with FFmpeg's bicubic scaler (as ``ffmpeg -vf scale`` does by
default, which AIM's resize script calls).
"""
import glob
import multiprocessing
import os
import os.path as osp
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from fractions import Fraction
from typing import Callable, List, Optional, Sequence, Tuple

from mmaction.utils.fileio import atomic_write
from mmaction.utils.video_files import is_video

#: the frame file names RawframeDataset reads by default (``filename_tmpl='img_{:05}.jpg'``,
#: ``start_index=1``)
FRAME_TEMPLATE = 'img_{:05}.jpg'


def find_videos(src: str) -> Tuple[List[str], int]:
    """(sorted paths relative to ``src`` of the videos under it, at any depth; how many
    other files were passed over). Hidden files (our temporary files among them) are not
    videos."""
    if not osp.isdir(src):
        raise FileNotFoundError(f'{src} is not a folder: give the folder that holds the '
                                'videos (sub-folders are searched too)')
    found, others = [], 0
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in files:
            if name.startswith('.'):
                continue
            if is_video(name):
                found.append(osp.relpath(osp.join(root, name), src))
            else:
                others += 1
    return sorted(found), others


def output_size(width: int, height: int, short_side: Optional[int],
                upscale: bool = False) -> Tuple[int, int]:
    """(width, height) with the short side ``short_side`` and the aspect ratio kept, both
    even (yuv420p halves the chroma planes). A video whose short side is already at most
    ``short_side`` keeps its size unless ``upscale``; ``short_side`` None or 0 keeps it too.
    Odd sizes are rounded down to even."""
    short = min(width, height)
    if short_side and (short > short_side or upscale):
        scale = short_side / short
        width, height = (short_side, round(height * scale / 2) * 2) if width <= height else \
            (round(width * scale / 2) * 2, short_side)
    return max(2, width - width % 2), max(2, height - height % 2)


def _frame_rate(stream) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate:
        raise ValueError('the video stream states no frame rate')
    return Fraction(rate)


def _open_video(src: str):
    import av
    container = av.open(src)
    if not container.streams.video:
        container.close()
        raise ValueError('the file has no video stream')
    stream = container.streams.video[0]
    stream.thread_count = 1  # the parallelism is the worker processes
    return container, stream


def _decoded(container, stream):
    """Every frame of the stream, in presentation order (one place to interrupt in tests)."""
    yield from container.decode(stream)


def resize_video(src: str, dst: str, short_side: Optional[int] = 256,
                 keyint: Optional[int] = None, crf: int = 23, preset: str = 'medium',
                 tune: Optional[str] = None, upscale: bool = False) -> int:
    """Re-encode ``src`` as H.264 (libx264, yuv420p) in an mp4 file ``dst``, atomically.

    Every decoded frame is encoded, with timestamps ``i / fps`` at the source's average
    frame rate: the frame count and the rate stay the source's (a variable-rate source
    becomes constant-rate, frame for frame). Audio and other streams are dropped.

    Args:
        short_side: the output's short side (see :func:`output_size`); None keeps the size.
        keyint: the keyframe interval (GOP size) in frames; None keeps x264's default, 250,
            which is also FFmpeg's (and AIM's resize script's without ``-g``).
        crf, preset: libx264's quality and speed settings.
        tune: libx264's ``tune`` (``'fastdecode'``: no CABAC, deblocking or weighted
            prediction; about twice as fast to decode, a third more bytes:
            docs/benchmarks.md, "Data pipeline on prepared data").
        upscale: enlarge videos whose short side is below ``short_side``.

    Returns the number of frames written.
    """
    import av
    container, stream = _open_video(src)
    try:
        rate = _frame_rate(stream)
        codec = stream.codec_context
        width, height = output_size(codec.width, codec.height, short_side, upscale)
        count = 0
        with atomic_write(dst) as tmp, av.open(tmp, 'w', format='mp4') as out:
            video = out.add_stream('libx264', rate=rate)
            video.width, video.height, video.pix_fmt = width, height, 'yuv420p'
            video.codec_context.time_base = 1 / rate
            options = {'crf': str(crf), 'preset': preset, 'threads': '1'}
            if keyint:
                options['g'] = str(keyint)  # the most frames from one keyframe to the next
            if tune:
                options['tune'] = tune
            video.options = options
            for frame in _decoded(container, stream):
                frame = frame.reformat(width, height, 'yuv420p', interpolation='BICUBIC')
                frame.pts, frame.time_base = count, 1 / rate
                count += 1
                for packet in video.encode(frame):
                    out.mux(packet)
            for packet in video.encode():
                out.mux(packet)
            if count == 0:
                raise ValueError('no frame decodes')
    finally:
        container.close()
    return count


def extract_frames(src: str, dst: str, short_side: Optional[int] = 256, quality: int = 95,
                   chroma: str = '420', upscale: bool = False) -> int:
    """Write every frame of ``src`` as ``dst/img_00001.jpg``, ``img_00002.jpg`` ... (JPEG of
    ``quality``), resized as :func:`output_size` says. The frames go into a hidden folder next
    to ``dst``, renamed to ``dst`` after the last one: ``dst`` exists only complete.

    ``chroma`` is the JPEG's colour sampling: ``'420'`` (OpenCV's default, as mmaction2's
    extraction writes) or ``'444'``. The frames' colour is the video's 4:2:0 upsampled; JPEG's
    4:2:0 samples it again at other positions, which loses detail where colour changes
    sharply; 4:4:4 keeps it, for more bytes and slower reading (docs/benchmarks.md, "Data
    pipeline on prepared data").

    Returns the number of frames written.
    """
    import cv2
    container, stream = _open_video(src)
    parent, name = osp.split(osp.abspath(dst))
    os.makedirs(parent, exist_ok=True)
    tmp = osp.join(parent, f'.{name}.{os.getpid()}.tmp')
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        codec = stream.codec_context
        width, height = output_size(codec.width, codec.height, short_side, upscale)
        count = 0
        sampling = {'420': cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
                    '444': cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444}[chroma]
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                  sampling]
        for frame in _decoded(container, stream):
            img = frame.reformat(width, height, 'bgr24', interpolation='BICUBIC').to_ndarray()
            count += 1
            ok, data = cv2.imencode('.jpg', img, params)
            if not ok:
                raise RuntimeError(f'OpenCV cannot encode frame {count} as JPEG')
            with open(osp.join(tmp, FRAME_TEMPLATE.format(count)), 'wb') as f:
                f.write(data.tobytes())
        if count == 0:
            raise ValueError('no frame decodes')
        os.rename(tmp, dst)
    finally:
        container.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return count


def count_frames(frame_dir: str) -> int:
    """The ``img_*.jpg`` files of a frame folder this module wrote."""
    return sum(1 for e in os.scandir(frame_dir) if e.name.startswith('img_') and
               e.name.endswith('.jpg'))


def remove_leftovers(path: str) -> None:
    """Remove what an interrupted run left of ``path`` (hidden ``.NAME.PID.tmp`` files or
    folders, whichever process wrote them)."""
    parent, name = osp.split(osp.abspath(path))
    for stale in glob.glob(osp.join(glob.escape(parent), f'.{glob.escape(name)}.*.tmp')):
        if osp.isdir(stale):
            shutil.rmtree(stale, ignore_errors=True)
        else:
            os.remove(stale)


def prepare_one(job: Tuple[Callable, str, str, dict]) -> Tuple[str, str, object]:
    """Run ``func(src, dst, **kwargs)`` unless ``dst`` exists. Returns (``dst``, status,
    detail): ``'done'`` and the frame count, ``'skipped'`` (``dst`` was there) and None, or
    ``'failed'`` and the reason. Never raises: one bad video must not stop the others."""
    func, src, dst, kwargs = job
    if osp.exists(dst):
        return dst, 'skipped', None
    try:
        remove_leftovers(dst)
        return dst, 'done', func(src, dst, **kwargs)
    except Exception as err:  # report whatever went wrong with this file, go on
        text = ' '.join(str(err).split()) or type(err).__name__
        return dst, 'failed', f'{type(err).__name__}: {text}'


def run_jobs(jobs: Sequence[Tuple[Callable, str, str, dict]], nproc: int = 1
             ) -> List[Tuple[str, str, object]]:
    """:func:`prepare_one` over ``jobs`` in ``nproc`` processes with a progress bar
    (mmengine's); the results in the order of ``jobs``.

    The workers are spawned, not forked: a fork copies the parent's locks as they are, and a
    parent that has run OpenMP, OpenCV or FFmpeg threads can hand a child a lock that nobody
    will release. ``concurrent.futures`` rather than ``multiprocessing.Pool``: when a worker
    dies (a decoder crash, the OOM killer) ``Pool.imap`` waits for its result forever, while
    the executor fails the jobs that were in flight, which are then reported as failed (run
    the command again: finished outputs are skipped)."""
    from mmengine.utils import ProgressBar, track_progress
    if not jobs:
        return []
    if nproc <= 1:
        return track_progress(prepare_one, list(jobs))
    results: List[Optional[Tuple[str, str, object]]] = [None] * len(jobs)
    bar = ProgressBar(len(jobs))
    with ProcessPoolExecutor(nproc, mp_context=multiprocessing.get_context('spawn')) as pool:
        index = {pool.submit(prepare_one, job): i for i, job in enumerate(jobs)}
        for future in as_completed(index):
            i = index[future]
            try:
                results[i] = future.result()
            except BrokenProcessPool as err:
                results[i] = (jobs[i][2], 'failed',
                              f'the worker process died before finishing it ({err}); run the '
                              'command again to retry (finished outputs are skipped)')
            bar.update()
    bar.file.write('\n')
    return results


def report(results: Sequence[Tuple[str, str, object]], src_of: dict, what: str) -> int:
    """Print the counts and every failure (source, reason); 1 if any failed, else 0."""
    done = sum(1 for _, status, _ in results if status == 'done')
    skipped = sum(1 for _, status, _ in results if status == 'skipped')
    failed = [(src_of[dst], reason) for dst, status, reason in results if status == 'failed']
    print(f'\n{done} {what} written, {skipped} already there (skipped), {len(failed)} failed')
    if failed:
        print(f'FAILED ({len(failed)}): these sources were not converted; nothing was written '
              'for them:')
        for src, reason in failed:
            print(f'  {src}\t{reason}')
    return 1 if failed else 0
