from .binary_cross_entropy import BCELossWithLogits
from .cross_entropy import CrossEntropyLoss

__all__ = ['BCELossWithLogits', 'CrossEntropyLoss']
