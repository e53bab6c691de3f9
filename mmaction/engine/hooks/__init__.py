"""The engine's hooks. A hook class with ``always_on = True`` is added to every run's
``custom_hooks`` by the config translation (unless the config lists it, with its own
arguments), so a new always-on hook needs no list elsewhere."""
from .accumulation_hook import EpochAccumulationHook
from .bad_video_hook import BadVideoHook
from .checkpoint_hook import CheckpointHook, PlainCheckpointHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .progress_hook import TestProgressBarHook
from .seed_hook import EpochSeedHook

__all__ = [
    'EpochAccumulationHook', 'BadVideoHook', 'CheckpointHook', 'PlainCheckpointHook',
    'NonFiniteLossError', 'NonFiniteLossHook', 'TestProgressBarHook', 'EpochSeedHook'
]
