"""Writing files that must not be left half-written."""
import os
import os.path as osp
import tempfile


def _write_atomic(path: str, data, mode: str, sync: bool) -> None:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` all at once: a reader (or a crash) sees the old file or the
    new one, never a part. Creates the parent directory."""
    _write_atomic(path, text, 'w', sync=False)


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` as :func:`write_text_atomic` does, and on the disk
    (``fsync``) before the rename makes it visible, as checkpoints are."""
    _write_atomic(path, data, 'wb', sync=True)
