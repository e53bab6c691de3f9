from .cross_entropy import CrossEntropyLoss
from .nll_loss import NLLLoss

__all__ = ['CrossEntropyLoss', 'NLLLoss']
