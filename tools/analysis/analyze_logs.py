"""Plot training curves and summarise training speed from the logs of runs.

    python tools/analysis/analyze_logs.py plot_curve LOG [LOG ...] --keys loss top1_acc
        [--legend NAME ...] [--title TITLE] --out curve.png
    python tools/analysis/analyze_logs.py cal_train_time LOG [LOG ...] [--include-outliers]

LOG is a run's ``work_dir/<timestamp>/vis_data/scalars.json``, its work dir (every run in it,
oldest first, so a resumed run is one curve), its text ``.log``, or an mmcv 1.x
``.log.json`` (the original AIM code's). Training scalars (``loss``, ``lr``, ...) are drawn
against the iteration, validation metrics against the epoch; a bare key the run validated
(``top1_acc``) means the validation metric, ``train/top1_acc`` the training batches'.
Plots need matplotlib: pip install -e ".[plots]".
"""
import argparse
import sys

from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.utils.train_log import read_training_log


def plot_curve(args):
    """Draw ``args.keys`` of every log into ``args.out``; returns the figure."""
    from mmaction.visualization.backend import require_matplotlib, save_figure
    from mmaction.visualization.curves import plot_curves
    try:
        require_matplotlib()
    except ImportError as err:
        raise SystemExit(str(err)) from None
    logs = [read_training_log(path) for path in args.logs]
    try:
        fig = plot_curves(logs, args.keys, args.legend, args.title)
    except (KeyError, ValueError) as err:
        raise SystemExit(err.args[0] if err.args else str(err)) from None
    save_figure(fig, args.out)
    print(f'Wrote {args.out}: {", ".join(args.keys)} of {len(logs)} run(s)')
    return fig


def cal_train_time(args):
    """Print the seconds per iteration of every log; returns the summaries."""
    from mmaction.visualization.curves import train_time_summary
    summaries = []
    for path in args.logs:
        log = read_training_log(path)
        try:
            s = train_time_summary(log, args.include_outliers)
        except KeyError as err:
            raise SystemExit(err.args[0]) from None
        print(f'-----Analyze train time of {path}-----')
        print(f'slowest epoch {s["slowest_epoch"]}, average time is {s["slowest"]:.4f} s/iter')
        print(f'fastest epoch {s["fastest_epoch"]}, average time is {s["fastest"]:.4f} s/iter')
        print(f'time std over epochs is {s["std"]:.4f}')
        print(f'average iter time: {s["average"]:.4f} s/iter')
        summaries.append(s)
    return summaries


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Analyze the training logs of runs')
    commands = parser.add_subparsers(dest='task', required=True)
    plot = commands.add_parser('plot_curve', help='plot scalars of one or several runs')
    plot.add_argument('logs', nargs='+', help='scalars.json, work dir, .log or .log.json')
    plot.add_argument('--keys', nargs='+', default=['loss'],
                      help='scalars to plot, e.g. loss top1_acc lr (val/KEY, train/KEY to '
                      'choose the phase)')
    plot.add_argument('--legend', nargs='+', help='a name per log (or per log and key)')
    plot.add_argument('--title', help='title of the figure')
    plot.add_argument('--out', required=True, help='image to write (.png, .pdf, .svg)')
    timing = commands.add_parser('cal_train_time', help='seconds per training iteration')
    timing.add_argument('logs', nargs='+', help='scalars.json, work dir, .log or .log.json')
    timing.add_argument('--include-outliers', action='store_true',
                        help="keep each epoch's first record (data-loader start-up)")
    for command in (parser, plot, timing):
        add_debug_argument(command)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return plot_curve(args) if args.task == 'plot_curve' else cal_train_time(args)


if __name__ == '__main__':
    sys.exit(run_tool(main))
