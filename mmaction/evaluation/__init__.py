"""Evaluation metrics; importing this package registers them in ``METRICS``."""
from .confusion import (TestResults, confusion_matrix, per_class_accuracy,
                        read_annotation_labels, read_test_results)
from .metrics import AccMetric, mean_class_accuracy, top_k_accuracy

__all__ = [
    'AccMetric', 'mean_class_accuracy', 'top_k_accuracy', 'TestResults', 'confusion_matrix',
    'per_class_accuracy', 'read_annotation_labels', 'read_test_results'
]
