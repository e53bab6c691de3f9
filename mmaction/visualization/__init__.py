"""Pictures of runs and predictions: labelled videos, training curves, confusion matrices.

The plots need matplotlib (``pip install -e ".[plots]"``), imported only when a plot is made.
"""
from .backend import INSTALL_HINT, require_matplotlib, save_figure
from .confusion import plot_confusion_matrix
from .curves import curve_labels, plot_curves, train_time_summary
from .video import draw_label, write_labelled_video

__all__ = ['INSTALL_HINT', 'require_matplotlib', 'save_figure', 'plot_confusion_matrix',
           'curve_labels', 'plot_curves', 'train_time_summary', 'draw_label',
           'write_labelled_video']
