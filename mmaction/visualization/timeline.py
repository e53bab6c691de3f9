"""Draw a long video's timeline of predictions (``demo/long_video_demo.py --plot``)."""
from typing import Dict, Optional, Sequence

import numpy as np

from .backend import require_matplotlib


def plot_timeline(timeline: Dict, thumbnails: Optional[Sequence[np.ndarray]] = None,
                  title: Optional[str] = None):
    """A figure of a timeline (:func:`mmaction.apis.windows.video_timeline`): the score of
    each class that made a window's top-k, drawn at the window's centre (time in seconds),
    with each window's span as a bar under it; and, if given, ``thumbnails`` (one RGB frame
    per window, e.g. its middle frame) in a strip above. Returns the
    ``matplotlib.figure.Figure``."""
    Figure = require_matplotlib()
    windows = timeline['windows']
    if not windows:
        raise ValueError('the timeline has no window')
    centres = np.array([(w['start_sec'] + w['end_sec']) / 2 for w in windows])
    names = []
    for w in windows:
        for entry in w['labels']:
            if entry['name'] not in names:
                names.append(entry['name'])
    rows = 2 if thumbnails is not None else 1
    fig = Figure(figsize=(9, 2.2 * rows + 0.8), layout='constrained')
    axes = fig.subplots(rows, 1, squeeze=False, sharex=True,
                        height_ratios=[1, 2.2] if rows == 2 else None)[:, 0]
    ax = axes[-1]
    for name in names:
        scores = np.array([next((e['score'] for e in w['labels'] if e['name'] == name),
                                np.nan) for w in windows])
        ax.plot(centres, scores, marker='o', markersize=3, label=name)
    for i, w in enumerate(windows):  # the windows' spans, staggered so overlaps show
        ax.plot([w['start_sec'], w['end_sec']], [-0.06 - 0.04 * (i % 2)] * 2, color='grey',
                linewidth=2)
    ax.set_ylim(-0.15, 1.05)
    ax.set_xlabel('time (s); grey: the frames of each window')
    ax.set_ylabel('score')
    ax.grid(True, alpha=0.3)
    if names:
        ax.legend(loc='upper right', fontsize='small')
    if thumbnails is not None:
        if len(thumbnails) != len(windows):
            raise ValueError(f'{len(thumbnails)} thumbnails for {len(windows)} windows')
        strip = axes[0]
        half = (windows[0]['end_sec'] - windows[0]['start_sec']) / 2
        step = np.min(np.diff(centres)) if len(centres) > 1 else 2 * half
        for centre, image in zip(centres, thumbnails):
            strip.imshow(image, extent=(centre - step * 0.45, centre + step * 0.45, 0, 1),
                         aspect='auto', interpolation='nearest')
        strip.set_ylim(0, 1)
        strip.set_yticks([])
        strip.set_xlim(min(w['start_sec'] for w in windows),
                       max(w['end_sec'] for w in windows))
    if title:
        fig.suptitle(title)
    return fig
