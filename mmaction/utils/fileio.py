"""Writing files that must not be left half-written."""
import contextlib
import os
import os.path as osp
from typing import Iterator


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[str]:
    """The one way this package writes a file atomically.

    Yields a hidden temporary path in the folder of ``path`` (created if missing) for the
    block to write; when the block ends without an error the file is flushed to the disk
    (``fsync``) and renamed over ``path``, so a reader, or a crash at any moment, sees the
    old file or the new one and never a part. If the block raises (even
    ``KeyboardInterrupt``), the temporary file is removed and ``path`` is left as it was.
    The temporary name starts with ``.`` and ends with ``.tmp``: no ``*.pth`` glob
    matches it.
    """
    folder, name = osp.split(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{name}.{os.getpid()}.tmp')
    try:
        yield tmp
        # whoever wrote it (this process, torch.save, mmengine), its data is on the disk
        # before the rename makes it visible
        with open(tmp, 'rb') as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)  # same folder: atomic
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_write`."""
    with atomic_write(path) as tmp, open(tmp, 'wb') as f:
        f.write(data)


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through :func:`atomic_write`."""
    with atomic_write(path) as tmp, open(tmp, 'w') as f:
        f.write(text)
