"""Evaluation metrics and the per-video results writer (``tools/test.py --out/--dump``);
importing this package registers them in ``METRICS``."""
from .confusion import (
                        TestResults,
                        class_confusion_matrix,
                        confusion_matrix,
                        per_class_accuracy,
                        read_annotation_labels,
                        read_test_results,
)
from .metrics import AccMetric, DumpResults, mean_class_accuracy, top_k_accuracy

__all__ = [
    'AccMetric', 'DumpResults', 'mean_class_accuracy', 'top_k_accuracy', 'TestResults',
    'class_confusion_matrix', 'confusion_matrix', 'per_class_accuracy', 'read_annotation_labels',
    'read_test_results'
]
