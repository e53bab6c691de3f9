"""Consistency checks: a config that contradicts itself, or names files that do not exist,
is refused before any work starts, with the fix.

* :func:`check_clip_len`: a config whose ``num_frames`` and ``clip_len`` disagree is refused
  with the exact ``--cfg-options`` that fixes it.
* :func:`check_num_classes`: the head and the blending agree on the number of classes (and
  a blending names it).
* :func:`check_multi_label`: multi-label data goes with a ``multi_class`` head and mAP
  metrics.
* :func:`check_input_files`: the annotation lists and the starting checkpoint of a run exist.
* :func:`check_trainable`: a config that is to train has a schedule, an optimizer and a
  training set.
"""
import os.path as osp
import re
from typing import Any, Optional

from mmengine.config import Config

from mmaction.checkpoint import CheckpointError, file_problem
from .schema import ConfigError, frame_samplers


def _line_of(filename: Optional[str], pattern: str) -> str:
    if not filename:
        return ''
    try:
        with open(filename) as f:
            for number, line in enumerate(f, 1):
                if re.search(pattern, line):
                    return f' ({filename}:{number})'
    except OSError:
        pass
    return ''


def check_clip_len(cfg: Config) -> None:
    """Refuse a config whose backbone ``num_frames`` differs from a sampler's ``clip_len``."""
    tree = cfg.to_dict()
    backbone = (tree.get('model') or {}).get('backbone') or {}
    if 'num_frames' not in backbone:
        return
    n = backbone['num_frames']
    wrong = [(p, s['clip_len']) for p, s in frame_samplers(tree) if s['clip_len'] != n]
    if not wrong:
        return
    filename = getattr(cfg, 'filename', None)
    lens = sorted({c for _, c in wrong})
    listing = '; '.join(f'{p}.clip_len={c}' for p, c in wrong)
    fixes = ' or '.join(f'`--cfg-options model.backbone.num_frames={c}`' for c in lens) \
        if len(lens) == 1 else ''
    where_n = _line_of(filename, r'num_frames\s*=')
    where_clip = _line_of(filename, r'clip_len\s*=\s*' + str(lens[0]))
    raise ConfigError(
        f'{filename or "The config"}: model.backbone.num_frames={n}{where_n} but {listing}'
        f'{where_clip}. The backbone would be '
        f'sized for {n}-frame clips and get others. Run with '
        + (f'{fixes} (keep the pipelines\' clips) or ' if fixes else '')
        + f'`--cfg-options model.backbone.num_frames={n}` (also sets every clip_len to {n}), '
        'or make the file agree.')


def check_num_classes(cfg: Config) -> None:
    """The head's and the blending's ``num_classes`` must agree."""
    model = cfg.to_dict().get('model') or {}
    head = (model.get('cls_head') or {}).get('num_classes')
    blending = ((model.get('train_cfg') or {}).get('blending') or {})
    if blending and head is not None and 'num_classes' not in blending:
        raise ConfigError(
            f"model.train_cfg.blending ({blending.get('type')}) has no num_classes; it makes "
            f'the soft targets of the {head} classes of model.cls_head.num_classes: add '
            f'--cfg-options model.train_cfg.blending.num_classes={head}.')
    if head is not None and 'num_classes' in blending and blending['num_classes'] != head:
        raise ConfigError(
            f'model.train_cfg.blending.num_classes={blending["num_classes"]} but '
            f'model.cls_head.num_classes={head}: set both to the number of classes of the '
            f'dataset, e.g. --cfg-options model.cls_head.num_classes={head} '
            f'model.train_cfg.blending.num_classes={head}.')


#: the metrics that read one label per video (AccMetric's default list)
SINGLE_LABEL_METRICS = ('top_k_accuracy', 'mean_class_accuracy')


def check_multi_label(cfg: Config) -> None:
    """Multi-label data (a dataset with ``multi_class=True``) needs a ``multi_class`` head,
    and its evaluators must score it with the mAP metrics, not top-k accuracy. ``cfg`` is a
    Runner config (after translation and after ``tools/test.py --eval`` set the metrics)."""
    tree = cfg.to_dict()
    head = (tree.get('model') or {}).get('cls_head') or {}
    for split in ('train', 'val', 'test'):
        dataset = (tree.get(f'{split}_dataloader') or {}).get('dataset') or {}
        if not dataset.get('multi_class'):
            continue
        if not head.get('multi_class'):
            raise ConfigError(
                f'data.{split}.multi_class=True (several labels per video) but '
                'model.cls_head.multi_class is not set, so the head would score one label per '
                "video. Set model.cls_head.multi_class=True with loss_cls=dict(type="
                "'BCELossWithLogits').")
        evaluators = tree.get(f'{split}_evaluator') or []
        for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
            if str(evaluator.get('type', '')).split('.')[-1] != 'AccMetric':
                continue
            metrics = evaluator.get('metric_list', SINGLE_LABEL_METRICS)
            metrics = (metrics, ) if isinstance(metrics, str) else tuple(metrics)
            single = [m for m in metrics if m in SINGLE_LABEL_METRICS]
            if single:
                raise ConfigError(
                    f'data.{split}.multi_class=True (several labels per video) cannot be scored '
                    f'with {single}, which need one label per video. Use '
                    "evaluation=dict(metrics=['mean_average_precision']) (or "
                    "'mmit_mean_average_precision') in the config, or tools/test.py --eval "
                    'mean_average_precision mmit_mean_average_precision.')


def _local_missing(path: Any) -> bool:
    return isinstance(path, str) and '://' not in path and not osp.isfile(path)


def check_input_files(cfg: Config, legacy: bool, checkpoint_key: Optional[str] = None) -> None:
    """The annotation lists of the data loaders the run uses, and the checkpoint it starts
    from (``load_from``, named ``checkpoint_key`` in the message), must exist, and the
    checkpoint must look whole (not truncated, a checkpoint at all): otherwise the error
    names the config key, the file and the command that makes it, before any work.
    ``legacy``: name the keys as AIM's dialect (``data.train.ann_file``)."""
    from mmaction.datasets.base import missing_annotation_message
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        dataset = loader.get('dataset') if isinstance(loader, dict) else None
        key = f'data.{split}' if legacy else f'{split}_dataloader.dataset'
        while isinstance(dataset, dict) and 'ann_file' not in dataset and \
                isinstance(dataset.get('dataset'), dict):  # RepeatDataset and other wrappers
            dataset, key = dataset['dataset'], f'{key}.dataset'
        if not isinstance(dataset, dict) or not dataset.get('ann_file'):
            continue
        path, root = dataset['ann_file'], dataset.get('data_root') or ''
        if root and isinstance(path, str) and not osp.isabs(path) and '://' not in path:
            path = osp.join(root, path)
        if _local_missing(path):
            prefix = dataset.get('data_prefix')
            if isinstance(prefix, dict) and len(prefix) == 1:
                prefix = next(iter(prefix.values()))
            raise FileNotFoundError(missing_annotation_message(path, key, prefix))
    start = cfg.get('load_from')
    if start and _local_missing(start):
        key = checkpoint_key or ('resume_from' if cfg.get('resume') else 'load_from')
        raise FileNotFoundError(
            f'{key}: the checkpoint {start} does not exist. Give the path of a file written '
            'by tools/train.py (WORK_DIR/epoch_N.pth) or of a released AIM checkpoint.')
    problem = file_problem(start) if isinstance(start, str) and osp.isfile(start) else None
    if problem:  # before the model is built
        key = checkpoint_key or ('resume_from' if cfg.get('resume') else 'load_from')
        raise CheckpointError(f'{key}: {start}: {problem}.')


def check_trainable(cfg: Config) -> None:
    """A translated config that is to train must say how long (``total_epochs``), with what
    (``optimizer``) and on what (``data.train``); a config for inference and testing only
    needs none of them, so this is checked by the training command, not the translation."""
    missing = [what for key, what in (
        ('train_cfg', 'total_epochs (the length of training; mmengine dialect: '
                      'train_cfg.max_epochs)'),
        ('optim_wrapper', "optimizer (e.g. dict(type='AdamW', lr=3e-4))"),
        ('train_dataloader', 'data.train (the training set; mmengine dialect: '
                             'train_dataloader)')) if not cfg.get(key)]
    if missing:
        raise ConfigError(f'{cfg.filename or "the config"} cannot train: '
                          f'{" and ".join(missing)} {"is" if len(missing) == 1 else "are"} '
                          'missing. (Without them it serves tools/test.py and '
                          'init_recognizer only.)')
