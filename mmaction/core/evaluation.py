"""mmaction2 0.x's ``mmaction.core.evaluation``: the accuracy functions, from
:mod:`mmaction.evaluation`."""
from mmaction.evaluation import (
                                 confusion_matrix,
                                 mean_average_precision,
                                 mean_class_accuracy,
                                 mmit_mean_average_precision,
                                 top_k_accuracy,
)

__all__ = ['confusion_matrix', 'mean_average_precision', 'mean_class_accuracy',
           'mmit_mean_average_precision', 'top_k_accuracy']
