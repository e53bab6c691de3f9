"""Top-k and mean class accuracy over the videos that could be decoded."""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from mmaction.registry import METRICS
from mmaction.structures import DATA_LIST_KEY, ActionDataSample
from mmaction.structures.data_list import describe, report
from mmaction.utils.cli import user_error
from ..average_precision import (
                                 MULTI_LABEL_METRICS,
                                 mean_average_precision,
                                 mmit_mean_average_precision,
)


@user_error
class MetricError(ValueError):
    """Metrics that cannot score these results (e.g. top-k accuracy of multi-label data)."""


def _scores_and_labels(scores, labels):
    """``scores`` as an (N, K) array and ``labels`` as (N,) ints; mmaction2 0.x passes a
    list of N score arrays and a list of N labels."""
    try:
        array = np.asarray(scores)
        shape = f'shape {array.shape}'
    except ValueError:  # numpy refuses ragged lists
        array, shape = None, 'vectors of different lengths'
    if array is None or array.ndim != 2:
        raise ValueError(f'scores must be N score vectors of the same length (an (N, K) array '
                         f'or a list of N arrays (K,)); got {shape}')
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(array):
        raise ValueError(f'labels must be one class index per score vector ({len(array)}); '
                         f'got shape {labels.shape}')
    return array, labels


def top_k_accuracy(scores, labels, topk: Sequence[int] = (1, )) -> List[float]:
    """Fraction of the N score vectors whose label is among its ``k`` largest scores, for
    each ``k`` of ``topk``. ``scores``: (N, K) array or list of N arrays; ``labels``: (N,)."""
    scores, labels = _scores_and_labels(scores, labels)
    order = np.argsort(-scores, axis=1, kind='stable')
    return [float((order[:, :k] == labels[:, None]).any(axis=1).mean()) for k in topk]


def mean_class_accuracy(scores, labels) -> float:
    """Accuracy of each class that occurs in ``labels``, averaged over those classes.
    ``scores``: (N, K) array or list of N arrays; ``labels``: (N,).

    (mmaction2's version also averages in a 0 for classes that are only predicted, which
    lowers the figure on subsets that miss classes; on a full validation set both agree.)
    """
    scores, labels = _scores_and_labels(scores, labels)
    hits = scores.argmax(axis=1) == labels
    classes = np.unique(labels)
    return float(np.mean([hits[labels == c].mean() for c in classes]))


@METRICS.register_module()
class AccMetric(BaseMetric):
    """Accuracy of video classification.

    Reads, per data sample, ``pred_score`` ((K,), or (views, K) whose rows are averaged),
    ``gt_label`` and the :class:`~mmaction.structures.ActionDataSample` fields
    ``decode_failed``/``filename``/``error`` of samples whose video could not be read. Those
    are left out of every number; the log says how many videos the numbers cover and lists
    the ones that failed. Videos that decord could not decode and PyAV did
    (``decoder_fallback``) count, and are listed apart.

    The log line also names the annotation list the numbers came from (path, sha256, videos
    listed and found), as the dataset recorded it in ``dataset_meta``; when it did, the
    results carry it too, as one entry ``data`` (a dict, see
    :func:`mmaction.structures.data_list.report`: ``ann_file``, ``sha256``, ``listed``,
    ``found``, ``evaluated``, ``unreadable``), so ``tools/test.py``'s final report and its
    JSON log show it. (One dict rather than several numbers: mmengine keeps a number as a
    scalar and drops it from the JSON log, and would plot it as a curve.)

    Args:
        metric_list: ``'top_k_accuracy'`` and/or ``'mean_class_accuracy'`` (one label per
            video); ``'mean_average_precision'`` and/or ``'mmit_mean_average_precision'``
            (:mod:`mmaction.evaluation.average_precision`), which read multi-label data's
            multi-hot ``gt_label`` rows (float, one entry per class) and score single labels
            as one-hot rows. Top-k and class accuracies of multi-label data are refused
            (:class:`MetricError`).
        topk: the ``k`` of ``top{k}_acc``.
        metric_options: mmaction2 0.x's ``dict(top_k_accuracy=dict(topk=(1, 5)))``.
        collect_device, prefix: as mmengine's BaseMetric (no prefix by default, so the keys
            are ``top1_acc``, ``top5_acc``, ``mean_class_accuracy``).
    """

    # the keys carry no prefix on purpose: they are AIM's names, which logs, plots and
    # `evaluation.save_best='top1_acc'` use ('' instead of None: mmengine warns about None)
    default_prefix = ''
    KNOWN = ('top_k_accuracy', 'mean_class_accuracy') + MULTI_LABEL_METRICS

    def __init__(self,
                 metric_list: Union[str, Sequence[str]] = ('top_k_accuracy',
                                                           'mean_class_accuracy'),
                 topk: Union[int, Sequence[int]] = (1, 5),
                 metric_options: Optional[Dict[str, dict]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        metric_list = (metric_list, ) if isinstance(metric_list, str) else tuple(metric_list)
        unknown = [m for m in metric_list if m not in self.KNOWN]
        if unknown:
            raise ValueError(f'AccMetric computes {self.KNOWN}; got {unknown}')
        topk = (metric_options or {}).get('top_k_accuracy', {}).get('topk', topk)
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or any(not isinstance(k, int) or k < 1 for k in topk):
            raise ValueError(f'topk must be positive ints, got {topk}')
        self.metric_list = metric_list
        self.topk = topk

    @staticmethod
    def _numpy(value) -> np.ndarray:
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().float().numpy() if value.is_floating_point() else \
                value.detach().cpu().numpy()
        return np.asarray(value)

    def process(self, data_batch, data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            score = self._numpy(sample['pred_score'])
            if score.ndim == 2:  # per-view scores (test_cfg.average_clips=None)
                score = score.mean(axis=0)
            label = self._numpy(sample['gt_label']).reshape(-1)
            if np.issubdtype(label.dtype, np.floating) and label.size == score.shape[-1]:
                label = label.astype(np.float32)  # multi-hot row (multi_class=True data)
            elif label.size == 1:
                label = int(label[0])
            else:
                raise ValueError(f'AccMetric needs one label per video or a multi-hot row of '
                                 f"{score.shape[-1]} (float); {sample.get('filename')} has "
                                 f'{label.tolist()}')
            self.results.append(dict(score=score, label=label,
                                     failed=bool(ActionDataSample.decode_failed.of(sample)),
                                     filename=ActionDataSample.filename.of(sample),
                                     error=ActionDataSample.error.of(sample),
                                     fallback=ActionDataSample.decoder_fallback.of(sample)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        failed = [r for r in results if r['failed']]
        good = [r for r in results if not r['failed']]
        data_list = (self.dataset_meta or {}).get(DATA_LIST_KEY)
        message = f'Accuracy over {len(good)} of {len(results)} videos'
        if data_list:
            message += f' of {describe(data_list)}'
        if failed:
            listed = '\n  '.join(f"{r['filename']}: {r['error']}" for r in failed[:20])
            more = f'\n  ... and {len(failed) - 20} more' if len(failed) > 20 else ''
            message += (f'; {len(failed)} could not be decoded and are left out:\n  '
                        f'{listed}{more}')
            logger.warning(message)
        else:
            logger.info(message)
        fallbacks = [r for r in good if r.get('fallback')]
        if fallbacks:
            listed = '\n  '.join(f"{r['filename']}: {r['fallback']['error']}"
                                  for r in fallbacks[:20])
            more = f'\n  ... and {len(fallbacks) - 20} more' if len(fallbacks) > 20 else ''
            logger.warning(f'{len(fallbacks)} of the {len(good)} videos were decoded with PyAV '
                           'because decord could not decode them (same pixels; they count):'
                           f'\n  {listed}{more}')
        if not good:
            raise RuntimeError(f'none of the {len(results)} evaluated videos could be decoded; '
                               'check the dataset paths (data_prefix, ann_file)')
        scores = np.stack([r['score'] for r in good])
        multi_hot = self._multi_hot_labels(good, scores.shape[1])
        labels = None if multi_hot is not None else np.array([r['label'] for r in good])
        metrics: Dict[str, float] = {}
        if multi_hot is not None or any(m in MULTI_LABEL_METRICS for m in self.metric_list):
            # single labels are scored as one-hot rows, as 0.x did
            rows = multi_hot if multi_hot is not None else np.eye(scores.shape[1])[labels]
            if 'mean_average_precision' in self.metric_list:
                metrics['mean_average_precision'] = mean_average_precision(scores, rows)
            if 'mmit_mean_average_precision' in self.metric_list:
                metrics['mmit_mean_average_precision'] = mmit_mean_average_precision(
                    scores, rows)
        if 'top_k_accuracy' in self.metric_list:
            for k, acc in zip(self.topk, top_k_accuracy(scores, labels, self.topk)):
                metrics[f'top{k}_acc'] = acc
        if 'mean_class_accuracy' in self.metric_list:
            metrics['mean_class_accuracy'] = mean_class_accuracy(scores, labels)
        if data_list:
            metrics['data'] = report(data_list, len(results), len(failed))
        return metrics

    def _multi_hot_labels(self, results: List[dict], num_classes: int) -> Optional[np.ndarray]:
        """The (N, K) multi-hot labels of multi-label results, None for one label per video;
        top-k and class accuracies of multi-label results are refused."""
        rows = [r['label'] for r in results if isinstance(r['label'], np.ndarray)]
        if not rows:
            return None
        if len(rows) != len(results):
            raise MetricError(f'{len(rows)} of {len(results)} videos have multi-hot labels and '
                              'the others one label: one dataset is either multi-label '
                              '(multi_class=True) or not')
        single = [m for m in self.metric_list if m not in MULTI_LABEL_METRICS]
        if single:
            raise MetricError(
                f'{single} need one label per video, but these videos are multi-label '
                f'(multi-hot labels over {num_classes} classes, multi_class=True). Score them '
                "with evaluation.metrics=['mean_average_precision'] (and/or "
                "'mmit_mean_average_precision') in the config, or tools/test.py --eval "
                'mean_average_precision mmit_mean_average_precision.')
        return np.stack(rows)
