"""Score the saved results of tools/test.py again, with any metric, without the model.

    python tools/analysis/eval_metric.py CONFIG RESULTS [--eval METRIC ...]
        [--eval-options KEY=VALUE ...] [--cfg-options KEY=VALUE ...] [--force]

RESULTS is what ``tools/test.py --out`` wrote (one score array per line of the test list, as
mmaction2 0.x wrote it) or ``--dump`` (records). As in 0.x, the labels come from the config's
test set (``data.test``: its ``ann_file``, read by its dataset class, so multi-label lists
and frame lists are read as in the test; the videos themselves are not needed), and the
number of results must be the number of samples. The metric is the config's test metric
(``AccMetric``, the one ``tools/test.py --eval`` runs) with ``metric_list`` set to
``--eval`` (default: the config's ``evaluation.metrics``); ``--eval-options`` are its
arguments (0.x's ``topk=1,3`` or ``metric_options.top_k_accuracy.topk=1,3``).

When tools/test.py wrote ``RESULTS.meta.json`` beside the file, the results are known to be of
one annotation list (path and sha256): a config whose test list has another sha256 is refused
(it may list other videos, or the same in another order), as is a ``--dump`` file whose file
names or labels differ from the list's at some position; ``--force`` scores them anyway (the
number of results must still match). Videos that could not be decoded (NaN scores) are left
out of the numbers and listed, as in the test.
"""
import argparse
import inspect
import os.path as osp
import sys

import numpy as np
from mmengine.config import Config, DictAction

from mmaction.engine import load_config
from mmaction.engine.commands import EVAL_METRICS
from mmaction.engine.config import ConfigError
from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.evaluation.results import check_list, read_scores
from mmaction.registry import DATASETS, METRICS
from mmaction.structures import DATA_LIST_KEY
from mmaction.utils import register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the config the test ran with')
    parser.add_argument('results', help='tools/test.py --out (or --dump) file: .pkl, .pickle '
                        'or .json')
    parser.add_argument('--eval', nargs='+', choices=EVAL_METRICS,
                        help="metrics, the names of tools/test.py --eval (default: the config's "
                        'evaluation.metrics)')
    parser.add_argument('--eval-options', nargs='+', action=DictAction, default={},
                        help='arguments of the metric, e.g. topk=1,3')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. data.test.ann_file=LIST (keys must '
                        'exist in the config)')
    parser.add_argument('--force', action='store_true',
                        help='score results whose provenance names another list (or whose '
                        '--dump records name other videos) than the config\'s test list')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def test_set(cfg: Config, config: str):
    """The config's test dataset, built to read its list only: no pipeline, and the videos
    are not looked for (results are often rescored on another machine). Its records are not
    serialized: mmengine starts that with a full garbage collection (0.6 s with torch
    loaded), which nothing here needs."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset')
    if not dataset:
        raise ConfigError(f'{config} has no test set (data.test); its ann_file gives the '
                          'labels of the results.')
    return DATASETS.build(dict(dataset, pipeline=[], test_mode=False, serialize_data=False))


def metric_of(cfg: Config, metrics, eval_options: dict):
    """The config's test metric (``tools/test.py``'s choice: the first of
    ``test_evaluator``, else ``AccMetric``) computing ``metrics`` with ``eval_options``."""
    evaluator = cfg.get('test_evaluator')
    if isinstance(evaluator, (list, tuple)):
        evaluator = evaluator[0] if evaluator else None
    evaluator = dict(evaluator or {'type': 'AccMetric'})
    metrics = metrics or evaluator.get('metric_list') or ('top_k_accuracy', )
    evaluator['metric_list'] = (metrics, ) if isinstance(metrics, str) else tuple(metrics)
    cls = METRICS.get(evaluator['type'])
    if cls is None:
        raise ConfigError(f"test_evaluator type {evaluator['type']!r} is not a registered "
                          'metric')
    takes = [p for p in inspect.signature(cls).parameters if p not in ('self', 'kwargs')]
    options = {}
    for key, value in eval_options.items():
        if key == 'topk':  # 0.x's deprecated keyword of top_k_accuracy
            key = 'metric_options.top_k_accuracy.topk'
        if key.split('.')[0] not in takes or key == 'metric_list':
            raise ConfigError(f'--eval-options {key}: {cls.__name__} takes '
                              f"{', '.join(p for p in takes if p != 'metric_list')} (the "
                              'metrics themselves are chosen with --eval)')
        options[key] = tuple(value) if isinstance(value, list) else value
    merged = Config(dict(evaluator=evaluator))
    merged.merge_from_dict({f'evaluator.{k}': v for k, v in options.items()})
    try:
        return METRICS.build(merged.to_dict()['evaluator'])
    except (TypeError, ValueError) as err:
        raise ConfigError(f'{cls.__name__} refuses --eval {" ".join(metrics)} with these '
                          f'options: {err}') from None


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options)
    saved = read_scores(args.results)
    dataset = test_set(cfg, args.config)
    data_list = dataset.metainfo.get(DATA_LIST_KEY) or {}
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    names = [info.get('filename', info.get('frame_dir')) for info in infos]
    labels = [info['label'] for info in infos]
    notes = check_list(saved, data_list.get('ann_file', 'the test list'), len(dataset),
                       data_list.get('sha256'), names, labels, args.force,
                       how='rescore with the config of that test, or give its list with '
                       '--cfg-options data.test.ann_file=LIST')
    metric = metric_of(cfg, args.eval, args.eval_options)
    metric.dataset_meta = dataset.metainfo

    errors = {osp.basename(str(f['filename'])): f['error']
              for f in (saved.meta or {}).get('unreadable_files', [])}
    samples = []
    for i, (score, label, name) in enumerate(zip(saved.scores, labels, names)):
        if isinstance(label, list):  # multi-label: the multi-hot row the pipeline packs
            row = np.zeros(saved.num_classes, dtype=np.float32)
            row[label] = 1
            label = row
        sample = dict(pred_score=score, gt_label=label, filename=name,
                      decode_failed=bool(saved.failed[i]))
        if saved.failed[i]:
            sample['error'] = errors.get(osp.basename(str(name)),
                                         f'no scores in {args.results} (NaN)')
        samples.append(sample)

    print(f'Results: {saved.source()}')
    print(f"Labels: {data_list.get('ann_file')} (sha256 {str(data_list.get('sha256'))[:12]}..., "
          f'{len(dataset)} samples), the test set of {args.config}')
    for note in notes:
        print(note)
    metric.process({}, samples)
    values = metric.evaluate(len(samples))
    for key, value in values.items():
        if isinstance(value, float):
            print(f'{key}\t{value:.4f}')
    return values


if __name__ == '__main__':
    sys.exit(run_tool(main))
