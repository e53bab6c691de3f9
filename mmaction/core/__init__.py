"""mmaction2 0.x's ``mmaction.core`` import paths, for code written against AIM's toolbox.

``from mmaction.core import top_k_accuracy`` (and ``mmaction.core.evaluation``) give this
project's functions themselves, not copies: :mod:`mmaction.evaluation` is where they live.
Only names with the same call and meaning as in 0.x are here; 0.x's hooks, optimizers and
runners have mmengine's in their place (see docs/architecture.md).
"""
from .evaluation import (
                          confusion_matrix,
                          mean_average_precision,
                          mean_class_accuracy,
                          mmit_mean_average_precision,
                          top_k_accuracy,
)

__all__ = ['confusion_matrix', 'mean_average_precision', 'mean_class_accuracy',
           'mmit_mean_average_precision', 'top_k_accuracy']
