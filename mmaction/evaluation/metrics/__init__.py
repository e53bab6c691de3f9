from .acc_metric import AccMetric, mean_class_accuracy, top_k_accuracy

__all__ = ['AccMetric', 'mean_class_accuracy', 'top_k_accuracy']
