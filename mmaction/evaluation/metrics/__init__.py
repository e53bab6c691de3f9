from .acc_metric import AccMetric, mean_class_accuracy, top_k_accuracy
from .dump_results import DumpResults

__all__ = ['AccMetric', 'DumpResults', 'mean_class_accuracy', 'top_k_accuracy']
