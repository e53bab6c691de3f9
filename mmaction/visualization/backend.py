"""matplotlib is optional (``pip install -e ".[plots]"``); the plots ask for it here."""
import os.path as osp

from mmaction.utils.fileio import atomic_write

#: what the plotting commands say when matplotlib is missing
INSTALL_HINT = 'pip install -e ".[plots]"'


def require_matplotlib():
    """``matplotlib.figure.Figure``, or ``ImportError`` with the install command. Figures
    are made without pyplot: no GUI backend, no global figure state."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(f'plots need matplotlib, which is not installed: {INSTALL_HINT} '
                          '(or pip install matplotlib)') from err
    return Figure


def save_figure(fig, path: str, dpi: int = 120) -> str:
    """Write ``fig`` to ``path`` (format from the suffix, e.g. ``.png``) through a temporary
    file and a rename, so a reader never sees half an image. Returns ``path``."""
    suffix = osp.splitext(path)[1].lstrip('.').lower() or 'png'
    with atomic_write(path) as tmp, open(tmp, 'wb') as f:
        fig.savefig(f, format=suffix, dpi=dpi, bbox_inches='tight')
    return path
