"""Models: backbones, heads, recognizers, losses, the data preprocessor and blendings.

Importing this package registers every model class in :data:`mmaction.registry.MODELS`.
"""
from .backbones import *  # noqa: F401,F403
from .blending import CutmixBlending, LabelSmoothing, MixupBlending
from .data_preprocessor import ActionDataPreprocessor
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .trainable import AIM_TRAINABLE, apply_trainable_policy

__all__ = [
    'ActionDataPreprocessor', 'LabelSmoothing', 'MixupBlending', 'CutmixBlending',
    'AIM_TRAINABLE', 'apply_trainable_policy'
]
