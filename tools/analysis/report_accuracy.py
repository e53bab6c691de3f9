"""Fuse the class scores of several test runs and report each one's accuracy and the fused.

    python tools/analysis/report_accuracy.py --scores A.pkl B.pkl ... [--coefficients 1 1 ...]
        [--datalist LIST] [--apply-softmax] [--top-k 1 5] [--force]

Each file is what ``tools/test.py --out`` (or ``--dump``) wrote for the same videos: two
models, the RGB and the flow stream, or one model tested on other views. The fused score of a
video is ``sum_i coefficient_i * score_i`` (mmaction2 0.x's ``get_weighted_score``; with
``--apply-softmax`` each file's scores are turned into probabilities first); scores saved
per view are averaged over the views first, as the accuracy metric does. Labels come from
``--datalist`` (the annotation list of the test: the last field of each line), or from the
files when they are ``--dump`` records.

Refused, with the reason: a coefficient count other than the file count; files with other
numbers of videos or classes; a list with another number of lines. When the files carry
their provenance (``<file>.meta.json``, written by tools/test.py) or file names (``--dump``),
files of other annotation lists (sha256), a ``--datalist`` other than the one they were
tested on, and videos in another order are refused too, unless ``--force``. Videos that some
file could not decode (NaN scores) are left out of every number, so that all rows are
computed over the same videos.
"""
import argparse
import os.path as osp
import sys

import numpy as np

from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.evaluation import mean_class_accuracy, read_annotation_labels, top_k_accuracy
from mmaction.evaluation.fusion import get_weighted_score, softmax
from mmaction.evaluation.results import (
    ResultsError,
    check_list,
    check_same_videos,
    file_sha256,
    read_scores,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--scores', nargs='+', required=True,
                        help='tools/test.py --out (or --dump) files of the same videos')
    parser.add_argument('--coefficients', nargs='+', type=float,
                        help='the weight of each file (default: 1 for each)')
    parser.add_argument('--datalist', help='the annotation list of the test, for the labels '
                        '(not needed for --dump files, which hold them)')
    parser.add_argument('--apply-softmax', action='store_true',
                        help='softmax over the classes of each file before fusing (for files '
                        'of raw scores, average_clips=score or none)')
    parser.add_argument('--top-k', nargs='+', type=int, default=[1, 5],
                        help='the k of the top-k accuracies (default: 1 5)')
    parser.add_argument('--force', action='store_true',
                        help='fuse files of other annotation lists or orders (same videos in '
                        'the same order all the same)')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def labels_of(saved, datalist, force):
    """The labels, from ``datalist`` or else the files' records, checked against the files;
    and the problems ``force`` let through."""
    notes = []
    if datalist:
        try:
            labels = read_annotation_labels(datalist)
        except ValueError as err:
            raise ResultsError(f'--datalist: {err}') from None
        sha256 = file_sha256(datalist)
        for result in saved:
            notes += check_list(result, datalist, len(labels), sha256, labels=labels,
                                force=force, how=f'give the list {result.path} was tested on '
                                'with --datalist')
    else:
        recorded = [s for s in saved if s.labels is not None and None not in s.labels]
        if not recorded:
            lists = sorted({s.data['ann_file'] for s in saved if s.data.get('ann_file')})
            tested = f" (the files were tested on {', '.join(lists)})" if lists else ''
            raise ResultsError('the labels are needed: give the annotation list the test ran '
                               f'on with --datalist{tested}, or fuse --dump files, which hold '
                               'them')
        labels = recorded[0].labels
        for result in recorded[1:]:
            notes += check_list(result, recorded[0].path, len(labels), labels=labels,
                                force=force, how='fuse results of the same test list')
        if any(isinstance(label, list) for label in labels):
            raise ResultsError(f'{recorded[0].path} has multi-label videos; top-k and mean '
                               'class accuracy need one label per video')
    labels = np.asarray(labels, dtype=np.int64)
    classes = saved[0].num_classes
    if labels.min() < 0 or labels.max() >= classes:
        raise ResultsError(f'a label is outside 0..{classes - 1} (the files score {classes} '
                           f'classes): is {datalist or recorded[0].path} the list of this test?')
    return labels, notes


def accuracies(scores: np.ndarray, labels: np.ndarray, topk) -> dict:
    row = dict(zip((f'top{k}_acc' for k in topk), top_k_accuracy(scores, labels, topk)))
    row['mean_class_accuracy'] = mean_class_accuracy(scores, labels)
    return row


def main(argv=None):
    args = parse_args(argv)
    coefficients = args.coefficients or [1.0] * len(args.scores)
    if len(coefficients) != len(args.scores):
        raise ResultsError(f'{len(args.scores)} --scores files but {len(coefficients)} '
                           '--coefficients: give one coefficient per file (or none: 1 each)')
    if any(k < 1 for k in args.top_k):
        raise ResultsError(f'--top-k must be positive, got {args.top_k}')
    saved = [read_scores(path) for path in args.scores]
    notes = check_same_videos(saved, args.force)
    labels, more = labels_of(saved, args.datalist, args.force)
    notes += more
    inputs = [softmax(s.scores) if args.apply_softmax else s.scores for s in saved]
    fused = np.stack(get_weighted_score(inputs, coefficients))
    kept = ~np.isnan(fused).any(axis=1)
    if not kept.any():
        raise ResultsError('no video has scores in every file (all are NaN: not decoded)')
    rows = [(osp.basename(s.path), weight, accuracies(x[kept], labels[kept], args.top_k))
            for s, x, weight in zip(saved, inputs, coefficients)]
    fused_row = accuracies(fused[kept], labels[kept], args.top_k)
    rows.append(('fused', None, fused_row))

    for note in notes:
        print(note)
    for s in saved:
        print(s.source())
    dropped = int((~kept).sum())
    print(f'{int(kept.sum())} videos, {saved[0].num_classes} classes'
          + (f' ({dropped} left out: not decoded in some file)' if dropped else '')
          + ('; softmax applied to each file' if args.apply_softmax else ''))
    keys = list(fused_row)
    width = max(len(name) for name, _, _ in rows)
    print(f"{'':<{width}}  coefficient  " + '  '.join(f'{k:>8}' for k in keys))
    for name, weight, row in rows:
        weight = '' if weight is None else f'{weight:g}'
        print(f'{name:<{width}}  {weight:>11}  '
              + '  '.join(f'{row[k]:>{max(len(k), 8)}.4f}' for k in keys))
    # the lines of mmaction2 0.x's tool, for scripts that read them
    print(f"Mean Class Accuracy: {fused_row['mean_class_accuracy']:.04f}")
    for k in args.top_k:
        print(f'Top {k} Accuracy: {fused_row[f"top{k}_acc"]:.04f}')
    return dict(rows=rows, fused=fused, labels=labels, kept=kept)


if __name__ == '__main__':
    sys.exit(run_tool(main))
