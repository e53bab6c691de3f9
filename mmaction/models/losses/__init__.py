from .binary_cross_entropy import BCELossWithLogits
from .cross_entropy import CrossEntropyLoss
from .nll_loss import NLLLoss

__all__ = ['BCELossWithLogits', 'CrossEntropyLoss', 'NLLLoss']
