"""Decoders: read only the sampled frames of a video (a file, a frame folder, or frames in
memory) as uint8 RGB.

Each backend is an ``*Init`` step, which opens the file and writes ``total_frames`` and a
``video_reader`` handle, and a ``*Decode`` step, which reads ``frame_inds``, decodes each
distinct index once and writes

- ``imgs``: one contiguous uint8 array (num_frames, H, W, 3), RGB, in ``frame_inds`` order;
- ``original_shape``, ``img_shape``: (H, W);

and drops the handle, so the file is closed as soon as its frames are out.

A file that cannot be read (missing, empty, truncated, no video stream, no frames) raises
:class:`VideoDecodeError`, which the datasets turn into a substitution (training) or a
``decode_failed`` sample (test). Any other exception is a bug or a config error and passes
through.
"""
import bisect
import inspect
import io
import itertools
import math
import os
import os.path as osp
import re
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional

import cv2
import numpy as np

from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample, VideoIssue
from .base import BaseTransform


class VideoDecodeError(RuntimeError):
    """A video or frame folder that cannot be read.

    Attributes:
        filename: the video file (or frame directory).
        reason: what went wrong, in words.
    """

    def __init__(self, filename: str, reason: str):
        self.filename = str(filename)
        self.reason = reason
        super().__init__(f'{filename}: {reason}')

    def __reduce__(self):  # keeps both fields when raised inside a data-loader worker
        return type(self), (self.filename, self.reason)


def _short(err: BaseException, limit: int = 300) -> str:
    """The informative line of a library error (decord adds C++ backtraces)."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    for line in lines:
        if 'Check failed' in line or 'ERROR' in line or 'Error' in line:
            text = line
            break
    else:
        text = lines[0]
    text = re.sub(r'^\[\d\d:\d\d:\d\d\] \S+:\d+: ', '', text)  # decord's time and source line
    return f'{type(err).__name__}: {text[:limit]}'


def file_backend_arguments(io_backend: str) -> set:
    """The keyword arguments mmengine's file backend ``io_backend`` takes (``'disk'`` is its
    ``'local'`` backend, which takes none). An unknown backend is a ``ValueError``."""
    from mmengine.fileio.backends.registry_utils import backends
    cls = backends.get('local' if io_backend == 'disk' else io_backend)
    if cls is None:
        raise ValueError(f"io_backend={io_backend!r} is not a file backend of mmengine; use "
                         f"'disk' or one of {sorted(n for n in backends if n != 'local')}")
    if cls.__init__ is object.__init__:
        return set()
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name for p in params if p.name != 'self' and
            p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


class _FileSource:
    """Where a decoder reads a file from: the local disk, or an mmengine file backend.

    Extra keyword arguments go to the backend; a name it does not take is refused here,
    since it would otherwise make every file unreadable (reported as corrupt videos)."""

    def __init__(self, io_backend: str = 'disk', owner: str = 'the decoder', **backend_kwargs):
        accepted = file_backend_arguments(io_backend)
        unknown = sorted(set(backend_kwargs) - accepted)
        if unknown:
            takes = sorted(accepted) if accepted else 'no arguments'
            raise ValueError(
                f'{owner}: {", ".join(unknown)} is not an argument of {owner} or of its '
                f'{io_backend!r} file backend, which takes {takes}. Remove or correct it in the '
                'pipeline step.')
        self.io_backend = io_backend
        self.backend_args = dict(backend='local' if io_backend == 'disk' else io_backend,
                                 **backend_kwargs) \
            if io_backend != 'disk' or backend_kwargs else None

    def open(self, filename: str):
        """A path (local disk) or an in-memory file object (other backends)."""
        if self.backend_args is None:
            if not osp.isfile(filename):
                reason = 'is a directory, not a file' if osp.isdir(filename) else \
                    'file not found'
                raise VideoDecodeError(filename, reason)
            if os.path.getsize(filename) == 0:
                raise VideoDecodeError(filename, 'the file is empty (0 bytes)')
            return filename
        from mmengine import fileio
        try:
            data = fileio.get(filename, backend_args=self.backend_args)
        except Exception as err:  # every backend raises its own error types
            raise VideoDecodeError(filename, f'cannot fetch it: {_short(err)}') from err
        if not data:
            raise VideoDecodeError(filename, 'the file is empty (0 bytes)')
        return io.BytesIO(data)


class _ReadsFiles:
    """Decoders whose extra keyword arguments go to an mmengine file backend."""

    @classmethod
    def forwarded_arguments(cls, step: dict) -> set:
        """Names ``**kwargs`` accepts in the step ``step`` (for the config checks)."""
        return file_backend_arguments(step.get('io_backend', 'disk'))


def _check_inds(inds: np.ndarray, total: int, results: dict) -> None:
    """Indices outside the video are a sampling/config error, not a broken file."""
    if inds.size == 0:
        raise ValueError('frame_inds is empty: put a sampler (SampleFrames ...) before the '
                         'decoder in the pipeline')
    if inds.min() < 0 or inds.max() >= total:
        source = results.get('filename', results.get('frame_dir', 'the frames given'))
        raise ValueError(
            f'{source}: frame index {int(inds.min() if inds.min() < 0 else inds.max())} is '
            f'outside the video (frames 0..{total - 1}). Video datasets count frames from 0: '
            'check the dataset start_index (0 for videos, 1 for img_00001.jpg frames).')


def _unique_frames(results: dict, total: Optional[int]):
    """Sorted distinct frame indices and the map back to ``frame_inds`` order."""
    inds = np.asarray(results['frame_inds'], dtype=np.int64).reshape(-1)
    if total is not None:
        _check_inds(inds, total, results)
    uniq, inverse = np.unique(inds, return_inverse=True)
    return uniq, inverse.reshape(-1)


def _expand(frames: np.ndarray, uniq: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Frames in ``frame_inds`` order; no copy when the indices were sorted and distinct."""
    if len(uniq) == len(inverse) and np.array_equal(inverse, np.arange(len(inverse))):
        return frames
    return frames[inverse]


def _store(results: dict, imgs: np.ndarray) -> dict:
    results.pop('video_reader', None)
    results['imgs'] = imgs
    results['original_shape'] = imgs.shape[1:3]
    results['img_shape'] = imgs.shape[1:3]
    return results


# ---------------------------------------------------------------------------------- decord
#: results key of a video that decord could not decode and PyAV did, a
#: :class:`~mmaction.structures.VideoIssue` with decord's error. The packers carry it into
#: :attr:`ActionDataSample.decoder_fallback <mmaction.structures.ActionDataSample>`, so that
#: BadVideoHook (training) and AccMetric (testing) count these files apart.
FALLBACK_KEY = ActionDataSample.decoder_fallback.name
_SOURCE_KEY = 'decord_source'  # where DecordDecode reopens a file with PyAV


def _fall_back_to_pyav(results: dict, source: '_FileSource', failure: VideoDecodeError
                       ) -> '_PyAVVideo':
    """Open with PyAV the file decord failed on; PyAV decodes the same pixels (docs/data.md).
    If PyAV cannot read it either, the file is unreadable: decord's error is raised, with
    PyAV's."""
    filename = results['filename']
    try:
        video = _open_pyav(filename, source.open(filename))
    except VideoDecodeError as err:
        raise VideoDecodeError(filename, f'{failure.reason}; {err.reason}') from failure
    results[FALLBACK_KEY] = VideoIssue(filename=filename, error=failure.reason)
    return video


@TRANSFORMS.register_module()
class DecordInit(_ReadsFiles, BaseTransform):
    """Open a video with decord.

    Reads ``filename``; writes ``video_reader`` (a ``decord.VideoReader``), ``total_frames``.

    decord 0.6 fails on some valid files (H.264 of small frame sizes, where it hands back 4
    bytes per pixel). A file decord cannot open or decode, but PyAV can, is decoded with PyAV
    (same pixels) and marked ``decoder_fallback`` (:data:`FALLBACK_KEY`); it is counted apart
    from unreadable files.

    Args:
        io_backend: ``'disk'`` or an mmengine file backend name (``'petrel'``, ``'http'``
            ...); extra keyword arguments go to that backend.
        num_threads: decoding threads per reader. 1 (the default) leaves the parallelism to
            the data-loader workers.
    """

    pipeline_role = 'open'

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1, **kwargs):
        try:
            import decord  # noqa: F401
        except ImportError as err:
            raise ImportError('DecordInit needs decord (`pip install decord`; there are no '
                              'wheels for some platforms). PyAVInit/PyAVDecode read the same '
                              'files.') from err
        self.io_backend = io_backend
        self.num_threads = num_threads
        self._source = _FileSource(io_backend, type(self).__name__, **kwargs)

    def transform(self, results: dict) -> dict:
        filename = results['filename']
        source = self._source.open(filename)
        import decord
        try:
            reader = decord.VideoReader(source, num_threads=self.num_threads)
            if len(reader) < 1:
                raise VideoDecodeError(filename, 'decord finds no frames in it')
        except Exception as err:  # decord raises DECORDError/RuntimeError with ffmpeg text
            failure = err if isinstance(err, VideoDecodeError) else \
                VideoDecodeError(filename, f'decord cannot open it ({_short(err)})')
            reader = _fall_back_to_pyav(results, self._source, failure)
        results['video_reader'] = reader
        results['total_frames'] = len(reader)
        results[_SOURCE_KEY] = self._source
        return results


@TRANSFORMS.register_module()
class DecordDecode(BaseTransform):
    """Decode the sampled frames with decord.

    Reads ``video_reader``, ``frame_inds``; writes ``imgs``, ``original_shape``,
    ``img_shape`` (see the module docstring). Where decord fails on a file PyAV can decode,
    :class:`PyAVDecode` decodes it (see :class:`DecordInit`).

    Args:
        mode: ``'accurate'`` (exact frames: one ``get_batch`` over the sorted distinct
            indices) or ``'efficient'`` (mmaction2's: each index reads the frame decord's
            keyframe seek lands on, which can be a GOP away from it, on either side; not
            exact, avoid for training).
    """

    pipeline_role = 'decode'

    def __init__(self, mode: str = 'accurate'):
        if mode not in ('accurate', 'efficient'):
            raise ValueError(f"DecordDecode mode must be 'accurate' or 'efficient', "
                             f'got {mode!r}')
        self.mode = mode
        self._pyav = PyAVDecode(mode=mode)

    def transform(self, results: dict) -> dict:
        source = results.pop(_SOURCE_KEY, None) or _FileSource()
        reader = results['video_reader']
        if isinstance(reader, _PyAVVideo):  # DecordInit already fell back
            return self._pyav.transform(results)
        results.pop('video_reader')
        uniq, inverse = _unique_frames(results, len(reader))
        try:
            if self.mode == 'accurate':
                frames = reader.get_batch(uniq).asnumpy()
            else:
                frames = []
                for idx in uniq:
                    reader.seek(int(idx))
                    frames.append(reader.next().asnumpy())
                frames = np.stack(frames)
        except Exception as err:  # decord reports decode failures as DECORDError
            failure = VideoDecodeError(results['filename'],
                                       f'decord cannot decode frames {uniq.tolist()} '
                                       f'({_short(err)})')
            video = _fall_back_to_pyav(results, source, failure)
            if int(uniq[-1]) >= len(video):
                video.close()
                raise VideoDecodeError(results['filename'],
                                       f'{failure.reason}; PyAV finds only {len(video)} of '
                                       f'its frames') from err
            results['video_reader'] = video
            return self._pyav.transform(results)
        finally:
            del reader
        return _store(results, _expand(frames, uniq, inverse))


# ---------------------------------------------------------------------------------- PyAV
_INHERITED_REFORMATTERS: list = []  # see PyAVDecode._rgb: never to be freed in this process
_WARNED: set = set()  # the decoding fallbacks already announced in this process


def _warn_once(kind: str, message: str) -> None:
    """Warn of a decoding fallback the first time it happens in this process (one data-loader
    worker): it concerns every file of that kind, and a warning per clip would drown the log."""
    if kind not in _WARNED:
        _WARNED.add(kind)
        warnings.warn(message, stacklevel=3)


class _SeekMismatch(RuntimeError):
    """After a seek, the container gave other packets than its index lists."""


class _PacketIndex:
    """Where the frames of a video stream are, from one demux pass (nothing decoded, no
    packet data kept): small enough for a worker to keep many (:class:`PyAVInit`'s
    ``index_cache_mb``), so that a video opened again is not demuxed again.

    Attributes:
        count: the packets that carry data (the frames), in decode order.
        exact: every packet has a distinct pts, and the pts are presentation stamps: frame
            ``i`` (presentation order) is the packet with the ``i``-th smallest pts.
            Otherwise frames are counted in the order the decoder outputs them.
        seekable: seeking the container lands on the packets listed (False when not exact, or
            once a seek in this file did not).
        pts: (exact only) each packet's pts, in decode order.
        order: (exact only) the decode position of each frame, in presentation order.
        keyframes: (exact only) decode positions of the keyframes, 0 first (decoding starts
            at the first packet anyway).
        seek_ts: (exact only) per keyframe, the timestamp to seek to: its dts, which demuxers
            search their indexes by, or its pts.
    """

    __slots__ = ('count', 'exact', 'seekable', 'pts', 'order', 'keyframes', 'seek_ts')

    def __init__(self, packets: list, stream):
        pts = [p.pts for p in packets]
        self.count = len(packets)
        self.exact = (bool(pts) and None not in pts and len(set(pts)) == len(pts)
                      and self.stamps_show_order(stream, pts))
        self.seekable = self.exact
        self.pts = self.order = self.keyframes = self.seek_ts = None
        if self.exact:
            self.pts = np.asarray(pts, dtype=np.int64)
            self.order = np.argsort(self.pts).astype(np.int32)
            self.keyframes = [i for i, p in enumerate(packets) if p.is_keyframe]
            if not self.keyframes or self.keyframes[0] != 0:
                self.keyframes.insert(0, 0)
            self.seek_ts = [pts[k] if packets[k].dts is None else packets[k].dts
                            for k in self.keyframes]

    @staticmethod
    def stamps_show_order(stream, pts: List[int]) -> bool:
        """Whether the packets' pts are presentation stamps. AVI stores decode-order stamps
        (its H.264 with B-frames shows frames in another order than they say): pts that only
        increase in decode order, in a stream whose codec reorders frames, are not."""
        return not stream.codec_context.has_b_frames or any(a > b for a, b in zip(pts, pts[1:]))

    def position(self, pts: Optional[int]) -> int:
        """Decode position of the packet with this pts, or -1 if none has it."""
        if pts is None or not self.exact:
            return -1
        ranked = self.pts[self.order]
        rank = int(np.searchsorted(ranked, pts))
        return int(self.order[rank]) if rank < self.count and ranked[rank] == pts else -1

    def start_packet(self, position: int) -> int:
        """Decode position of the last keyframe from which the packet at ``position`` decodes.

        A keyframe after which, in decode order, frames show *earlier* than it (open GOP)
        cannot start the decode of those frames; take the previous keyframe then.
        """
        pts = self.pts[position]
        k = bisect.bisect_right(self.keyframes, position) - 1
        while k > 0 and self.pts[self.keyframes[k]] > pts:
            k -= 1
        return self.keyframes[k]

    @property
    def nbytes(self) -> int:
        """About what the index holds in memory."""
        arrays = 0 if self.pts is None else self.pts.nbytes + self.order.nbytes
        return 200 + arrays + 64 * len(self.keyframes or ())


class _IndexCache:
    """The packet indexes of the videos a worker opened last, least recently used dropped
    first beyond ``limit_mb``. Keyed by path, inode, modification time and size: a file
    rewritten or replaced is indexed again. A copy sent to a spawned worker starts empty."""

    def __init__(self, limit_mb: float):
        if isinstance(limit_mb, bool) or not isinstance(limit_mb, (int, float)) or limit_mb < 0:
            raise ValueError(f'PyAVInit index_cache_mb must be a number >= 0 (MB of packet '
                             f'indexes a worker keeps; 0 keeps none), got {limit_mb!r}')
        self.limit = int(limit_mb * 2**20)
        self.entries: 'OrderedDict[tuple, _PacketIndex]' = OrderedDict()
        self.nbytes = self.hits = self.misses = 0

    def key(self, source) -> Optional[tuple]:
        """The key of a local file, or None (a file object, or caching off)."""
        if not self.limit or not isinstance(source, str):
            return None
        st = os.stat(source)
        return source, st.st_ino, st.st_mtime_ns, st.st_size

    def get(self, key: Optional[tuple]) -> Optional[_PacketIndex]:
        if key is None:
            return None
        index = self.entries.get(key)
        if index is None:
            self.misses += 1
        else:
            self.entries.move_to_end(key)
            self.hits += 1
        return index

    def put(self, key: Optional[tuple], index: _PacketIndex) -> None:
        if key is None or key in self.entries:
            return
        self.entries[key] = index
        self.nbytes += index.nbytes
        while self.nbytes > self.limit and self.entries:
            self.nbytes -= self.entries.popitem(last=False)[1].nbytes

    def __getstate__(self):
        return {**self.__dict__, 'entries': OrderedDict(), 'nbytes': 0, 'hits': 0,
                'misses': 0}


class _FrameArray:
    """The wanted frames, each copied into one (n, H, W, 3) array as soon as it is converted:
    its RGB buffer, still in cache, is freed for the next frame, where stacking at the end
    would keep n buffers alive and copy them all again."""

    def __init__(self, n: int):
        self.n, self.array = n, None

    def __setitem__(self, j: int, rgb: np.ndarray) -> None:
        if self.array is None:
            self.array = np.empty((self.n, ) + rgb.shape, dtype=np.uint8)
        elif rgb.shape != self.array.shape[1:]:
            raise RuntimeError(f'frames change size within the video: {self.array.shape[1:]} '
                               f'then {rgb.shape}')
        self.array[j] = rgb


class _PyAVVideo:
    """An open container, the :class:`_PacketIndex` of its video stream and, when this
    opening built the index, the stream's packets (decode order).

    Without the packets (an index from the cache), :meth:`packets_from` seeks the container
    to the keyframe asked for and checks that the packets it reads are the indexed ones.
    """

    def __init__(self, container, stream, index: Optional[_PacketIndex] = None,
                 path: Optional[str] = None):
        self.container, self.stream, self.path = container, stream, path
        self.packets: Optional[list] = None
        if index is None:
            self.packets = [p for p in container.demux(stream) if p.size > 0]
            index = _PacketIndex(self.packets, stream)
        self.index = index
        self.exact = index.exact
        self._fresh = True  # nothing read since the file was opened
        self._reading = None

    def __len__(self) -> int:
        return self.index.count

    def packets_from(self, start: int):
        """An iterator over the packets from decode position ``start`` (a keyframe, or 0)
        to the end; one that seeks raises :class:`_SeekMismatch` where the packets read are
        not the ones indexed."""
        if self.packets is None and not (self.exact and self.index.seekable):
            self.load_packets()
        if self.packets is not None:
            return itertools.islice(self.packets, start, None)
        if self._reading is not None:
            self._reading.close()
        self._reading = self._seek_and_read(start)
        return self._reading

    def seek_target(self, start: int) -> int:
        """The timestamp to seek to for the keyframe at decode position ``start``."""
        return int(self.index.seek_ts[bisect.bisect_left(self.index.keyframes, start)])

    def _seek_and_read(self, start: int):
        index = self.index
        if start > 0 or not self._fresh:
            self.container.seek(self.seek_target(start), backward=True, stream=self.stream)
        self._fresh = False
        position = None
        for packet in self.container.demux(self.stream):
            if packet.size == 0:  # the end-of-stream marker; the index has no empty packets
                continue
            if position is None:  # a seek may land before the keyframe, never after it
                position = index.position(packet.pts)
                if not 0 <= position <= start:
                    landed = 'a pts not in the index' if position < 0 else f'packet {position}'
                    raise _SeekMismatch(f'the seek to packet {start} (timestamp '
                                        f'{self.seek_target(start)}) reached {landed}')
            elif position >= index.count or packet.pts != index.pts[position]:
                raise _SeekMismatch(f'packet {position} read after a seek has pts {packet.pts}, '
                                    'not the indexed one')
            if position >= start:
                yield packet
            position += 1
        if position != index.count:
            raise _SeekMismatch(f'the stream ended at packet {position} of {index.count}')

    def load_packets(self) -> None:
        """Demux every packet, from the file opened again if this opening has read."""
        if not self._fresh:
            import av
            self.close()
            self.container = av.open(self.path)
            self.stream = self.container.streams.video[0]
        self._fresh = False
        self.packets = [p for p in self.container.demux(self.stream) if p.size > 0]
        if len(self.packets) != self.index.count:
            raise RuntimeError(f'the file changed while it was read ({len(self.packets)} '
                               f'packets, {self.index.count} before)')

    def close(self) -> None:
        if self._reading is not None:
            self._reading.close()
            self._reading = None
        self.packets = None
        self.container.close()


def _open_pyav(filename: str, source, index: Optional[_PacketIndex] = None) -> _PyAVVideo:
    """The indexed video of ``source`` (a path or a file object), or :class:`VideoDecodeError`.
    With ``index`` (this file's, from the cache) nothing is demuxed."""
    import av
    try:
        container = av.open(source)
    except Exception as err:  # av.error.* (InvalidDataError ...) and OSError
        raise VideoDecodeError(filename, f'PyAV cannot open it ({_short(err)})') from err
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(filename, 'the file has no video stream')
    try:
        video = _PyAVVideo(container, container.streams.video[0], index,
                           source if isinstance(source, str) else None)
    except Exception as err:  # a truncated/corrupt container fails while demuxing
        container.close()
        raise VideoDecodeError(filename, f'PyAV cannot read its packets ({_short(err)})') \
            from err
    if len(video) == 0:
        video.close()
        raise VideoDecodeError(filename, 'the video stream has no frames')
    return video


@TRANSFORMS.register_module()
class PyAVInit(_ReadsFiles, BaseTransform):
    """Open a video with PyAV and index its packets (a demux pass; nothing is decoded).

    Reads ``filename``; writes ``video_reader`` and ``total_frames`` (the number of video
    packets, which is exact where container metadata is missing or wrong, e.g. webm).

    The index (packet timestamps and keyframes, not the packets' data) of each local file
    is kept, per worker, up to ``index_cache_mb``; a file opened again is not demuxed again:
    :class:`PyAVDecode` seeks to the keyframes it needs and reads only the packets from
    there. A file modified or replaced (other inode, modification time or size) is indexed
    anew. Nothing changes in the frames.

    Args:
        io_backend: ``'disk'`` or an mmengine file backend name; extra keyword arguments go
            to that backend. Only local files are cached.
        index_cache_mb: memory for the kept indexes, per worker (about 5 kB per 300-frame
            video: 32 MB keeps some 6,000); least recently used first out; 0 keeps none.
    """

    pipeline_role = 'open'

    def __init__(self, io_backend: str = 'disk', index_cache_mb: float = 32, **kwargs):
        self.io_backend = io_backend
        self.index_cache_mb = index_cache_mb
        self._indexes = _IndexCache(index_cache_mb)
        self._source = _FileSource(io_backend, type(self).__name__, **kwargs)

    def transform(self, results: dict) -> dict:
        filename = results['filename']
        source = self._source.open(filename)
        key = self._indexes.key(source)
        video = _open_pyav(filename, source, self._indexes.get(key))
        self._indexes.put(key, video.index)
        results['video_reader'] = video
        results['total_frames'] = len(video)
        return results


@TRANSFORMS.register_module()
class PyAVDecode(BaseTransform):
    """Decode the sampled frames with PyAV, without decoding the whole video.

    For each wanted frame, decoding starts at the last keyframe before it (or continues, when
    no keyframe lies between the previous wanted frame and this one). Frames that are not
    wanted and that no other frame references (B-frames, mostly) are skipped by the decoder
    itself (``skip_frame='NONREF'``, for FFmpeg's own decoders of the codecs in
    ``SKIPS_PER_PACKET``), and only wanted frames are converted to RGB. The skipping is what
    decord cannot do, and most of why this is faster (docs/data.md). Where the video's index
    came from :class:`PyAVInit`'s cache, the container is seeked to those keyframes and only
    the packets from there are read; where a seek does not land on the indexed packets, the
    file is read from the start instead (a warning, once per worker).

    Streams without usable presentation timestamps (missing, repeated, or in decode order,
    as AVI stores them) are decoded from the first frame, counting frames (a warning, once
    per worker): exact, but slower for late frames.

    Reads ``video_reader``, ``frame_inds``; writes ``imgs``, ``original_shape``,
    ``img_shape``.

    Args:
        multi_thread: let FFmpeg decode with several threads (default: one thread; the
            data-loader workers are the parallelism).
        mode: ``'accurate'`` (exact frames) or ``'efficient'`` (each index reads the
            keyframe at or before it, as mmaction2's efficient mode).
    """

    pipeline_role = 'decode'

    # Decoders that apply ``skip_frame`` to the packet being sent. Others may not: libdav1d
    # (AV1) applies it to whichever frame leaves its queue next, and keeps skipping after it
    # is reset, so a wanted frame would never come out.
    SKIPS_PER_PACKET = frozenset({'h264', 'hevc', 'mpeg4', 'mpeg2video', 'mpeg1video', 'h263',
                                  'vp8', 'vp9'})

    def __init__(self, multi_thread: bool = False, mode: str = 'accurate'):
        if mode not in ('accurate', 'efficient'):
            raise ValueError(f"PyAVDecode mode must be 'accurate' or 'efficient', got {mode!r}")
        self.multi_thread = multi_thread
        self.mode = mode
        self._reformatter, self._pid = None, None

    def __getstate__(self):  # the reformatter is a per-process FFmpeg object
        return {**self.__dict__, '_reformatter': None, '_pid': None}

    def _rgb(self, frame) -> np.ndarray:
        """One frame as (H, W, 3) RGB. A reformatter kept across calls reuses its FFmpeg
        scaling context: a third of the cost of ``frame.to_ndarray(format='rgb24')``, same
        pixels. It converts on the calling thread (``threads=1``; PyAV's default, 0, starts a
        scaler thread per core in every worker). It belongs to the process that made it: one
        inherited through ``fork`` (a data-loader worker started after the main process
        decoded) may hang when used or freed, waiting for scaler threads the fork did not
        copy; it is kept, unused."""
        if self._pid != os.getpid():
            from av.video.reformatter import VideoReformatter
            if self._reformatter is not None:
                _INHERITED_REFORMATTERS.append(self._reformatter)
            self._reformatter, self._pid = VideoReformatter(), os.getpid()
        return self._reformatter.reformat(frame, format='rgb24', threads=1).to_ndarray()

    def _codec(self, video: _PyAVVideo):
        """The video's decoder with this step's threads, set before it opens (FFmpeg fixes
        them then): one, unless ``multi_thread``."""
        codec = video.stream.codec_context
        if not codec.is_open:
            if self.multi_thread:
                codec.thread_type = 'AUTO'
            else:
                codec.thread_count = 1
        return codec

    def transform(self, results: dict) -> dict:
        video = results.pop('video_reader')
        uniq, inverse = _unique_frames(results, len(video))
        filename = results.get('filename', 'the video')
        try:
            try:
                frames = self._decode(video, uniq, filename)
            except _SeekMismatch as err:
                _warn_once('seek', f'{filename}: {err}. PyAVDecode reads files where seeking '
                           'misses the indexed packets from the start (slower, same frames).')
                video.index.seekable = False  # for the next openings of this file too
                video.load_packets()
                frames = self._decode(video, uniq, filename)
        except Exception as err:  # av.error.InvalidDataError ... on corrupt data
            raise VideoDecodeError(filename, f'PyAV cannot decode it ({_short(err)})') from err
        finally:
            video.close()
        if frames is None:
            raise VideoDecodeError(filename, f'frames {uniq.tolist()} could not be decoded')
        return _store(results, _expand(frames, uniq, inverse))

    def _decode(self, video: _PyAVVideo, uniq: np.ndarray, filename: str
                ) -> Optional[np.ndarray]:
        unusable = (f'{filename}: the video has no usable presentation timestamps (missing, '
                    'repeated, or in decode order, as AVI stores them). PyAVDecode decodes such '
                    'files from the first frame and counts frames: exact, but slower for late '
                    'frames; tools/data/resize_videos.py re-encodes them to mp4.')
        if not video.exact:
            _warn_once('stamps', unusable)
            return self._decode_in_order(video, uniq)
        if self.mode == 'efficient':
            return self._decode_keyframes(video, uniq)
        frames = self._decode_exact(video, uniq)
        if frames is None:  # frame timestamps differ from packet timestamps
            _warn_once('stamps', unusable)
            frames = self._decode_in_order(video, uniq)
        return frames

    @staticmethod
    def _frames_array(out: List[np.ndarray]) -> np.ndarray:
        shapes = {f.shape for f in out}
        if len(shapes) != 1:
            raise RuntimeError(f'frames change size within the video: {sorted(shapes)}')
        return np.stack(out)

    def _decode_exact(self, video: _PyAVVideo, uniq: np.ndarray) -> Optional[np.ndarray]:
        index = video.index
        positions = index.order[uniq]
        wanted = index.pts[positions]
        slot: Dict[int, int] = {int(p): j for j, p in enumerate(wanted)}
        out = _FrameArray(len(uniq))
        missing = set(slot)
        codec = skip = packets = None
        next_packet = None  # decode position of the next packet to send
        shown = -math.inf  # pts of the last frame output since the decoder (re)started
        try:
            for target, position in zip(wanted.tolist(), positions.tolist()):
                if target not in missing:
                    continue
                start = index.start_packet(position)
                if next_packet is None or start > next_packet:
                    packets = video.packets_from(start)
                    if codec is None:
                        codec = self._codec(video)
                        skip = 'NONREF' if codec.codec.name in self.SKIPS_PER_PACKET else \
                            'DEFAULT'
                    else:
                        codec.flush_buffers()  # jump: skipping packets beats decoding them
                    next_packet, shown = start, -math.inf
                while target in missing:
                    if next_packet < index.count:
                        packet = next(packets)
                        codec.skip_frame = 'DEFAULT' if packet.pts in missing else skip
                        decoded = codec.decode(packet)
                    elif next_packet == index.count:
                        codec.skip_frame = 'DEFAULT'
                        decoded = codec.decode(None)  # drain the frames held for reordering
                    else:
                        return None
                    next_packet += 1
                    for frame in decoded:
                        if frame.pts is None or frame.pts <= shown:  # not presentation stamps
                            return None
                        shown = frame.pts
                        if frame.pts in missing:
                            out[slot[frame.pts]] = self._rgb(frame)
                            missing.discard(frame.pts)
        finally:
            if codec is not None:
                codec.skip_frame = 'DEFAULT'
        return out.array

    def _decode_keyframes(self, video: _PyAVVideo, uniq: np.ndarray) -> np.ndarray:
        index = video.index
        by_keyframe: Dict[int, np.ndarray] = {}
        out = []
        for position in index.order[uniq].tolist():
            start = index.start_packet(position)
            if start not in by_keyframe:
                packet = next(video.packets_from(start))
                codec = self._codec(video)
                codec.flush_buffers()
                frames = list(codec.decode(packet)) or list(codec.decode(None))
                if not frames:
                    raise RuntimeError(f'the keyframe at packet {start} does not decode')
                by_keyframe[start] = self._rgb(frames[0])
            out.append(by_keyframe[start])
        return self._frames_array(out)

    def _decode_in_order(self, video: _PyAVVideo, uniq: np.ndarray) -> Optional[np.ndarray]:
        """Decode from the start and count output frames (for streams without usable pts)."""
        packets = video.packets_from(0)
        codec = self._codec(video)
        codec.flush_buffers()  # after a failed exact decode (nothing to flush when unopened)
        wanted = {int(i): j for j, i in enumerate(uniq)}
        out = _FrameArray(len(uniq))
        last = int(uniq[-1])
        index = 0
        for packet in itertools.chain(packets, [None]):
            for frame in codec.decode(packet):
                if index in wanted:
                    out[wanted[index]] = self._rgb(frame)
                index += 1
            if index > last:
                return out.array
        return None  # fewer frames decode than the stream has packets


# ---------------------------------------------------------------------------------- OpenCV
@TRANSFORMS.register_module()
class OpenCVInit(BaseTransform):
    """Open a local video with OpenCV's FFmpeg reader.

    Reads ``filename``; writes ``video_reader`` (a ``cv2.VideoCapture``), ``total_frames``
    (from the container's metadata).

    Args:
        io_backend: only ``'disk'``.
        num_threads: FFmpeg decoding threads (1 by default; OpenCV would use every core).
    """

    pipeline_role = 'open'

    @classmethod
    def forwarded_arguments(cls, step: dict) -> set:
        return set()  # local files only

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1, **kwargs):
        if io_backend != 'disk' or kwargs:
            raise ValueError(f'OpenCVInit reads local files only; got io_backend='
                             f'{io_backend!r} {kwargs}. Use DecordInit or PyAVInit instead.')
        self.io_backend = io_backend
        self.num_threads = num_threads
        self._source = _FileSource()

    def transform(self, results: dict) -> dict:
        filename = self._source.open(results['filename'])
        reader = cv2.VideoCapture(filename, cv2.CAP_FFMPEG,
                                  [cv2.CAP_PROP_N_THREADS, int(self.num_threads)])
        if not reader.isOpened():
            raise VideoDecodeError(filename, 'OpenCV cannot open it (no video stream, or not '
                                   'a video file)')
        total = int(reader.get(cv2.CAP_PROP_FRAME_COUNT))
        if total < 1:
            reader.release()
            raise VideoDecodeError(filename, 'the video stream has no frames')
        results['video_reader'] = reader
        results['total_frames'] = total
        return results


@TRANSFORMS.register_module()
class OpenCVDecode(BaseTransform):
    """Decode the sampled frames with OpenCV (BGR converted to RGB).

    Seeks to the first wanted frame, then decodes forward with ``grab`` (no colour
    conversion) to each next one: OpenCV does not expose keyframes, and a forward seek
    decodes from the previous keyframe again, so decoding through is never worse by more
    than the frames in between. Reads ``video_reader``, ``frame_inds``; writes ``imgs``,
    ``original_shape``, ``img_shape``.
    """

    pipeline_role = 'decode'

    def transform(self, results: dict) -> dict:
        reader = results.pop('video_reader')
        total = int(reader.get(cv2.CAP_PROP_FRAME_COUNT))
        uniq, inverse = _unique_frames(results, total)
        out = None
        position = 0
        try:
            for j, idx in enumerate(int(i) for i in uniq):
                if j == 0 and idx > 0:
                    reader.set(cv2.CAP_PROP_POS_FRAMES, idx)
                else:
                    for _ in range(idx - position):
                        reader.grab()
                ok, frame = reader.read()
                if not ok:
                    code = int(reader.get(cv2.CAP_PROP_FOURCC))
                    fourcc = ''.join(chr((code >> s) & 0xFF) for s in (0, 8, 16, 24)).strip()
                    raise VideoDecodeError(
                        results['filename'], f'frame {idx} of {total} cannot be read: the file '
                        f'is truncated, or this OpenCV cannot decode its codec ({fourcc!r}; '
                        'PyAVDecode reads more codecs)')
                if out is None:
                    out = np.empty((len(uniq), ) + frame.shape, dtype=np.uint8)
                elif frame.shape != out.shape[1:]:
                    raise VideoDecodeError(results['filename'], 'frames change size')
                cv2.cvtColor(frame, cv2.COLOR_BGR2RGB, dst=out[j])
                position = idx + 1
        finally:
            reader.release()
        return _store(results, _expand(out, uniq, inverse))


# ---------------------------------------------------------------------------------- arrays
class FramesDecode(BaseTransform):
    """The decoder of frames already in memory (the inference API's array input): takes the
    sampled frames from the array given to the constructor.

    Reads ``frame_inds`` (counting from ``start_index`` 0); writes ``imgs`` (num_frames, H,
    W, 3) uint8, ``original_shape``, ``img_shape``, as the decoders do. Not registered: its
    argument is the array itself, which no config holds.
    """

    pipeline_role = 'decode'

    def __init__(self, frames: np.ndarray):
        self.frames = frames

    def transform(self, results: dict) -> dict:
        uniq, inverse = _unique_frames(results, len(self.frames))
        return _store(results, _expand(self.frames[uniq], uniq, inverse))

    def __repr__(self) -> str:
        return f'FramesDecode(frames={tuple(self.frames.shape)})'


# ---------------------------------------------------------------------------------- frames
@TRANSFORMS.register_module()
class RawFrameDecode(_ReadsFiles, BaseTransform):
    """Read extracted frames (``img_00001.jpg`` ...) of one video.

    Reads ``frame_dir``, ``filename_tmpl``, ``frame_inds`` (already counting from the
    dataset's ``start_index``), ``offset`` (optional); writes ``imgs``, ``original_shape``,
    ``img_shape``. A repeated index is read once.

    Args:
        io_backend: ``'disk'`` or an mmengine file backend.
        decoding_backend: ``'cv2'`` (the only one).
    """

    pipeline_role = 'decode'
    reads_frame_folders = True

    def __init__(self, io_backend: str = 'disk', decoding_backend: str = 'cv2', **kwargs):
        if decoding_backend != 'cv2':
            raise ValueError(f"RawFrameDecode decodes with OpenCV; decoding_backend="
                             f"{decoding_backend!r} is not available (use 'cv2').")
        self.io_backend = io_backend
        self.decoding_backend = decoding_backend
        self._source = _FileSource(io_backend, type(self).__name__, **kwargs)

    def _read(self, path: str, frame_dir: str) -> np.ndarray:
        try:
            source = self._source.open(path)
        except VideoDecodeError as err:
            raise VideoDecodeError(frame_dir, f'frame {path}: {err.reason}') from None
        if isinstance(source, str):
            img = cv2.imread(source, cv2.IMREAD_COLOR)
        else:
            img = cv2.imdecode(np.frombuffer(source.getbuffer(), np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise VideoDecodeError(frame_dir, f'frame {path} is not a readable image')
        return img

    def transform(self, results: dict) -> dict:
        if results.get('modality', 'RGB') != 'RGB':
            raise ValueError(f"RawFrameDecode reads RGB frames; modality="
                             f"{results['modality']!r} is not supported")
        frame_dir = results['frame_dir']
        template = results.get('filename_tmpl', 'img_{:05}.jpg')
        offset = int(results.get('offset', 0))
        uniq, inverse = _unique_frames(results, None)
        out = None
        for j, idx in enumerate(uniq):
            path = osp.join(frame_dir, template.format(int(idx) + offset))
            img = self._read(path, frame_dir)
            if out is None:
                out = np.empty((len(uniq), ) + img.shape, dtype=np.uint8)
            elif img.shape != out.shape[1:]:
                raise VideoDecodeError(frame_dir, f'frame {path} is {img.shape[:2]}, the '
                                       f'others {out.shape[1:3]}')
            cv2.cvtColor(img, cv2.COLOR_BGR2RGB, dst=out[j])
        return _store(results, _expand(out, uniq, inverse))


@TRANSFORMS.register_module()
class FrameSelector(RawFrameDecode):
    """mmaction2 0.x's deprecated name of :class:`RawFrameDecode` (same arguments, same
    behaviour); building it warns, as 0.x did, with a ``UserWarning`` (shown by default,
    and what 0.x's own test expects)."""

    def __init__(self, *args, **kwargs):
        warnings.warn("'FrameSelector' is deprecated (as in mmaction2 0.x): it is "
                      "RawFrameDecode under an old name; write type='RawFrameDecode'.",
                      UserWarning, stacklevel=2)
        super().__init__(*args, **kwargs)
