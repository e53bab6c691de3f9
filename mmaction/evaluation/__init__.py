"""Evaluation metrics and the per-video results writer (``tools/test.py --out/--dump``);
importing this package registers them in ``METRICS``."""
from .confusion import (
                        TestResults,
                        confusion_matrix,
                        per_class_accuracy,
                        read_annotation_labels,
                        read_test_results,
)
from .fusion import get_weighted_score
from .metrics import AccMetric, DumpResults, mean_class_accuracy, top_k_accuracy
from .results import ResultsError, SavedScores, load_results, read_scores

__all__ = [
    'AccMetric', 'DumpResults', 'mean_class_accuracy', 'top_k_accuracy', 'TestResults',
    'confusion_matrix', 'per_class_accuracy', 'read_annotation_labels', 'read_test_results',
    'get_weighted_score', 'ResultsError', 'SavedScores', 'load_results', 'read_scores'
]
