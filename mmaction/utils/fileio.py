"""Writing files that must not be left half-written."""
import os
import os.path as osp
import tempfile


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` all at once: a reader (or a crash) sees the old file or the
    new one, never a part. Creates the parent directory."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
