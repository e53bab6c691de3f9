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
