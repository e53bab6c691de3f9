"""The metric functions by the names ``--eval`` and ``evaluation.metrics`` give them
(mmaction2 0.x's names), for the tools that score saved results.

Call forms (``scores``: one score row (K,) per video, a list of arrays or (N, K)):

* ``top_k_accuracy(scores, labels, topk)``, ``mean_class_accuracy(scores, labels)``: one
  class index per video;
* ``mean_average_precision(scores, labels)``, ``mmit_mean_average_precision(scores,
  labels)``: one multi-hot row (K,) per video.
"""
from .average_precision import (
                                MULTI_LABEL_METRICS,
                                mean_average_precision,
                                mmit_mean_average_precision,
)
from .metrics.acc_metric import mean_class_accuracy, top_k_accuracy

#: ``--eval`` name -> function
METRIC_FUNCTIONS = {
    'top_k_accuracy': top_k_accuracy,
    'mean_class_accuracy': mean_class_accuracy,
    'mean_average_precision': mean_average_precision,
    'mmit_mean_average_precision': mmit_mean_average_precision,
}

__all__ = ['METRIC_FUNCTIONS', 'MULTI_LABEL_METRICS']
