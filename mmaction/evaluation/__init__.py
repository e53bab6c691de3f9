"""Evaluation metrics; importing this package registers them in ``METRICS``."""
from .metrics import AccMetric, mean_class_accuracy, top_k_accuracy

__all__ = ['AccMetric', 'mean_class_accuracy', 'top_k_accuracy']
