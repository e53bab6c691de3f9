"""Evaluation metrics and the per-video results writer (``tools/test.py --out/--dump``);
importing this package registers them in ``METRICS``. :data:`METRIC_FUNCTIONS` holds the
metric functions by their ``--eval`` names."""
from .average_precision import mean_average_precision, mmit_mean_average_precision
from .confusion import (
                        TestResults,
                        class_confusion_matrix,
                        confusion_matrix,
                        per_class_accuracy,
                        read_annotation_labels,
                        read_test_results,
)
from .functional import METRIC_FUNCTIONS, MULTI_LABEL_METRICS
from .fusion import get_weighted_score
from .metrics import AccMetric, DumpResults, mean_class_accuracy, top_k_accuracy
from .results import ResultsError, SavedScores, load_results, read_scores

__all__ = [
    'AccMetric', 'DumpResults', 'mean_class_accuracy', 'top_k_accuracy', 'TestResults',
    'class_confusion_matrix', 'confusion_matrix', 'per_class_accuracy', 'read_annotation_labels',
    'read_test_results',
    'mean_average_precision', 'mmit_mean_average_precision', 'METRIC_FUNCTIONS',
    'MULTI_LABEL_METRICS',
    'get_weighted_score', 'ResultsError', 'SavedScores', 'load_results', 'read_scores'
]
