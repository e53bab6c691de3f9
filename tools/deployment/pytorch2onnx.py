"""Export a trained recognizer to ONNX (docs/features_export.md).

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT [--shape 1 3 8 224 224]
        [--dynamic-batch] [--verify] [--output-file tmp.onnx] [--opset-version N]
        [--average-clips prob|score|none] [--softmax] [--exporter dynamo|torchscript]
        [--show] [--cfg-options KEY=VALUE ...] [--debug]

The graph maps normalised clips ``clips`` (N, C, T, H, W), or (N, views, C, T, H, W), to the
test scores ``scores`` that tools/test.py writes for them. ``--verify`` checks the file and
compares onnxruntime's scores with torch's on random clips (within 1e-4). Needs the packages
of the ``export`` extra: ``pip install -e ".[export]"``.
"""
import argparse
import sys

from mmengine.config import DictAction

from mmaction.apis import init_recognizer
from mmaction.apis.export import EXPORTERS, TOLERANCE, export_onnx
from mmaction.engine import load_config
from mmaction.engine.launch import add_debug_argument, run_tool


def parse_args(argv):
    parser = argparse.ArgumentParser(description='Export a video recognizer to ONNX.')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--shape', type=int, nargs='+', default=[1, 3, 8, 224, 224],
                        help='input size: N C T H W, or N V C T H W for V views per video '
                        '(default: 1 3 8 224 224)')
    parser.add_argument('--dynamic-batch', action='store_true',
                        help='leave the batch size N free in the graph')
    parser.add_argument('--verify', action='store_true',
                        help=f'compare onnxruntime\'s scores with torch\'s (within {TOLERANCE})')
    parser.add_argument('--output-file', default='tmp.onnx', help='default: tmp.onnx')
    parser.add_argument('--opset-version', type=int,
                        help="ONNX opset (default: the exporter's)")
    parser.add_argument('--average-clips', choices=('prob', 'score', 'none'),
                        help='how the views\' scores are combined (model.test_cfg.'
                        'average_clips; default: the config\'s)')
    parser.add_argument('--softmax', action='store_true',
                        help="AIM's flag: softmax scores (same as --average-clips prob)")
    parser.add_argument('--exporter', choices=EXPORTERS, default='dynamo',
                        help='dynamo: torch.export-based (default); torchscript: the legacy '
                        'tracer torch deprecates')
    parser.add_argument('--show', action='store_true', help='print the exported graph')
    parser.add_argument('--is-localizer', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys (keys must exist in the config)')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.is_localizer:
        parser.error('--is-localizer: this project has no localizers; it exports '
                     'recognizers (Recognizer3D)')
    if args.softmax and args.average_clips not in (None, 'prob'):
        parser.error(f'--softmax means --average-clips prob; it contradicts --average-clips '
                     f'{args.average_clips}')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cfg = load_config(args.config, args.cfg_options)
    average = 'prob' if args.softmax else args.average_clips
    if average:
        cfg.model.setdefault('test_cfg', {})['average_clips'] = \
            None if average == 'none' else average
    model = init_recognizer(cfg, args.checkpoint)
    report = export_onnx(model, args.shape, args.output_file,
                         opset_version=args.opset_version, dynamic_batch=args.dynamic_batch,
                         verify=args.verify, exporter=args.exporter)
    print(f'Exported {report["file"]} (opset {report["opset"]}, input clips '
          f'{"N" if args.dynamic_batch else args.shape[0]} x '
          f'{" x ".join(map(str, args.shape[1:]))})')
    if args.show:
        import onnx
        print(onnx.helper.printable_graph(onnx.load(args.output_file).graph))
    if report['max_abs_diff'] is not None:
        diffs = ', '.join(f'batch {n}: {d:.2e}' for n, d in report['max_abs_diff'].items())
        print(f'onnxruntime and torch agree within {TOLERANCE} ({diffs})')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
