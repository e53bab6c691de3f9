"""Training curves of one or several runs (``tools/analysis/analyze_logs.py plot_curve``)."""
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmaction.utils.train_log import TrainingLog
from .backend import require_matplotlib

AXIS_LABELS = {'iter': 'iteration', 'epoch': 'epoch'}


def curve_labels(logs: Sequence[TrainingLog], keys: Sequence[str],
                 legend: Optional[Sequence[str]] = None) -> List[List[str]]:
    """Legend label of every (run, key): ``'<run> <key>'`` where ``<run>`` is the run's name
    or its entry of ``legend`` (one per run); a ``legend`` with one entry per run and key
    (run-major) gives the labels as they are."""
    if legend is not None and len(legend) == len(logs) * len(keys):
        return [list(legend[i * len(keys):(i + 1) * len(keys)]) for i in range(len(logs))]
    if legend is not None and len(legend) != len(logs):
        raise ValueError(f'--legend has {len(legend)} names; give one per log ({len(logs)}) '
                         f'or one per log and key ({len(logs) * len(keys)})')
    names = list(legend) if legend is not None else [log.name for log in logs]
    if legend is None and len(set(names)) < len(names):  # same work-dir name: number them
        names = [f'{name} [{i + 1}]' for i, name in enumerate(names)]
    return [[f'{name} {key}' for key in keys] for name in names]


def plot_curves(logs: Sequence[TrainingLog], keys: Sequence[str],
                legend: Optional[Sequence[str]] = None, title: Optional[str] = None):
    """A figure with one panel per key and, in each, one line per run.

    Training scalars are drawn against the iteration; validation metrics (``top1_acc``
    when the run validated; see :meth:`TrainingLog.resolve`) against the epoch, with a
    marker per evaluation. Every key must be in every log (``KeyError`` otherwise, listing
    the keys the log has). Returns the ``matplotlib.figure.Figure``.
    """
    Figure = require_matplotlib()
    from matplotlib.ticker import MaxNLocator
    if not logs or not keys:
        raise ValueError('plot_curves needs at least one log and one key')
    labels = curve_labels(logs, keys, legend)
    series: Dict[str, list] = {key: [log.series(key) for log in logs] for key in keys}
    fig = Figure(figsize=(8, 2.8 * len(keys) + 0.4), layout='constrained')
    axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
    for ax, key in zip(axes, keys):
        axis_names, resolved = set(), []
        for run, (axis, xs, ys) in enumerate(series[key]):
            axis_names.add(axis)
            phase_key = '/'.join(logs[run].resolve(key))
            if phase_key not in resolved:
                resolved.append(phase_key)
            marker = 'o' if axis == 'epoch' or len(xs) < 20 else None
            ax.plot(np.asarray(xs), np.asarray(ys), marker=marker, markersize=3,
                    label=labels[run][keys.index(key)])
        ax.set_xlabel(' / '.join(AXIS_LABELS.get(a, a) for a in sorted(axis_names)))
        ax.set_ylabel(', '.join(resolved))
        if axis_names == {'epoch'}:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(loc='best', fontsize='small')
    if title:
        fig.suptitle(title)
    return fig


def train_time_summary(log: TrainingLog, include_outliers: bool = False) -> dict:
    """Seconds per training iteration of a run, overall and per epoch.

    Each logged ``time`` is the mean over the iterations since the previous record; the
    first record of an epoch also holds the data loader's start-up, so it is left out
    (unless ``include_outliers`` or it is the epoch's only record). Returns
    ``{'average', 'slowest_epoch', 'slowest', 'fastest_epoch', 'fastest', 'std',
    'per_epoch'}`` (``per_epoch``: epoch -> mean seconds per iteration).
    """
    per_epoch: Dict[int, List[float]] = {}
    for record in log.train:
        if 'time' in record:
            per_epoch.setdefault(int(record.get('epoch', 1)), []).append(float(record['time']))
    if not per_epoch:
        raise KeyError(f'{log.source} has no training "time" records (keys: '
                       f'{log.keys("train")})')
    means = {}
    for epoch, times in sorted(per_epoch.items()):
        kept = times if include_outliers or len(times) == 1 else times[1:]
        means[epoch] = float(np.mean(kept))
    epochs = list(means)
    values = np.array([means[e] for e in epochs])
    everything = [t for e in epochs for t in
                  (per_epoch[e] if include_outliers or len(per_epoch[e]) == 1
                   else per_epoch[e][1:])]
    return dict(average=float(np.mean(everything)),
                slowest_epoch=epochs[int(values.argmax())], slowest=float(values.max()),
                fastest_epoch=epochs[int(values.argmin())], fastest=float(values.min()),
                std=float(values.std()), per_epoch=means)
