"""Draw a confusion matrix (``tools/analysis/confusion_matrix.py``)."""
from typing import Optional, Sequence

import numpy as np

from .backend import require_matplotlib

#: above this many classes the cells are not annotated with their values
MAX_ANNOTATED = 30
#: above this many classes the axes show indices instead of class names
MAX_NAMED = 60


def plot_confusion_matrix(cm: np.ndarray, class_names: Optional[Sequence[str]] = None,
                          normalized: bool = False, title: Optional[str] = None):
    """A figure of ``cm`` (rows: true class, columns: predicted class) with class names on
    both axes and each cell's value written in it (up to :data:`MAX_ANNOTATED` classes).
    Returns the ``matplotlib.figure.Figure``."""
    Figure = require_matplotlib()
    n = cm.shape[0]
    if class_names is not None and len(class_names) != n:
        raise ValueError(f'{len(class_names)} class names for a {n}x{n} matrix')
    size = min(4 + 0.45 * n, 30)
    fig = Figure(figsize=(size + 1.5, size), layout='constrained')
    ax = fig.subplots()
    image = ax.imshow(cm, cmap='Blues', vmin=0, vmax=1 if normalized else max(1, cm.max()),
                      interpolation='nearest')
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if n <= MAX_NAMED:
        names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
        ax.set_xticks(range(n), labels=names, rotation=45 if class_names else 0,
                      ha='right' if class_names else 'center', fontsize='small')
        ax.set_yticks(range(n), labels=names, fontsize='small')
    if n <= MAX_ANNOTATED:
        threshold = (1 if normalized else max(1, cm.max())) / 2
        for i in range(n):
            for j in range(n):
                value = cm[i, j]
                text = f'{value:.2f}' if normalized else f'{int(value)}'
                ax.text(j, i, text, ha='center', va='center', fontsize='small',
                        color='white' if value > threshold else 'black')
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    if title:
        ax.set_title(title)
    return fig
