"""Confusion matrix and per-class accuracy of a test run.

    python tools/analysis/confusion_matrix.py RESULTS --out cm.png [--label-map FILE]
        [--normalize] [--ann-file ANN]

RESULTS is what ``tools/test.py --dump`` writes (records with the label and the scores), or
what ``--out`` writes (scores only) together with ``--ann-file``, the annotation list the
test ran on. Videos that could not be decoded are left out and listed. Prints the matrix
(rows: true class, columns: predicted) and each class's accuracy; ``--out`` draws it
(needs matplotlib: pip install -e ".[plots]").
"""
import argparse
import sys

import numpy as np

from mmaction.apis.inference import read_label_names
from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.evaluation.confusion import (
    class_confusion_matrix,
    per_class_accuracy,
    read_test_results,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Confusion matrix of tools/test.py results')
    parser.add_argument('results', help='tools/test.py --dump file (.pkl/.json), or an --out '
                        'file with --ann-file')
    parser.add_argument('--out', help='PNG (or .pdf/.svg) to draw the matrix into')
    parser.add_argument('--label-map', help='class names, one per line (line i names class i)')
    parser.add_argument('--ann-file', help='annotation list the test ran on (needed for --out '
                        'results, which hold no labels)')
    parser.add_argument('--normalize', action='store_true',
                        help='divide each row by its total: the fraction of each true class '
                        'given to each predicted class')
    parser.add_argument('--title', help='title of the figure')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def format_matrix(cm: np.ndarray, names, normalized: bool) -> str:
    """The matrix as text, rows labelled with class names, columns with class indices."""
    width = max(6 if normalized else len(str(int(cm.max(initial=0)))) + 1, len(str(len(cm))) + 1)
    label_width = max(len(n) for n in names)
    header = ' ' * (label_width + 7) + ''.join(f'{j:>{width}}' for j in range(len(cm)))
    rows = [header]
    for i, row in enumerate(cm):
        cells = ''.join(f'{v:>{width}.3f}' if normalized else f'{int(v):>{width}d}'
                        for v in row)
        rows.append(f'{i:>4}  {names[i]:<{label_width}} {cells}')
    return '\n'.join(rows)


def main(argv=None):
    args = parse_args(argv)
    results = read_test_results(args.results, args.ann_file)
    names = read_label_names(args.label_map)
    num_classes = len(names) if names is not None else results.num_classes
    if names is not None and results.num_classes and results.num_classes != len(names):
        raise SystemExit(f'{args.label_map} names {len(names)} classes but the scores in '
                         f'{args.results} have {results.num_classes}')
    if not num_classes:
        num_classes = int(max(results.gt.max(initial=-1), results.pred.max(initial=-1))) + 1
    if names is None:
        names = [str(i) for i in range(num_classes)]
    if not len(results.gt):
        raise SystemExit(f'{args.results}: no video could be decoded, there is nothing to count')
    counts = class_confusion_matrix(results.gt, results.pred, num_classes)
    shown = class_confusion_matrix(results.gt, results.pred, num_classes, 'true') \
        if args.normalize else counts
    accuracy = per_class_accuracy(counts)

    print(f'Confusion matrix of {len(results.gt)} videos (rows: true class, columns: '
          f'predicted{", each row divided by its total" if args.normalize else ""}):')
    print(format_matrix(shown, names, args.normalize))
    if results.failed:
        print(f'{len(results.failed)} videos could not be decoded and are left out: '
              f'{results.failed[:10]}{" ..." if len(results.failed) > 10 else ""}')
    print('Per-class accuracy:')
    for i, name in enumerate(names):
        value = 'no videos' if np.isnan(accuracy[i]) else f'{accuracy[i]:.4f}'
        print(f'{i:>4}  {name:<{max(len(n) for n in names)}}  {value}  '
              f'({int(counts[i, i])}/{int(counts[i].sum())})')
    print(f'top-1 accuracy {np.trace(counts) / counts.sum():.4f}, mean class accuracy '
          f'{np.nanmean(accuracy):.4f}')
    fig = None
    if args.out:
        from mmaction.visualization.backend import save_figure
        from mmaction.visualization.confusion import plot_confusion_matrix
        try:
            fig = plot_confusion_matrix(shown, names, args.normalize, args.title)
        except ImportError as err:
            raise SystemExit(str(err)) from None
        save_figure(fig, args.out)
        print(f'Wrote {args.out}')
    return dict(matrix=shown, counts=counts, per_class_accuracy=accuracy, names=names,
                failed=results.failed, figure=fig)


if __name__ == '__main__':
    sys.exit(run_tool(main))
