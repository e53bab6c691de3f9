"""Training and testing engine: AIM's config dialect on mmengine's Runner.

Importing this package registers the runner, training loop, hooks, optimizer glue,
learning-rate scheduler and the data loader ``worker_init_fn`` in the ``mmaction``
registries.
"""
from .checkpoint import find_latest_checkpoint, read_checkpoint
from .config_checks import ConfigError, apply_cfg_options
from .config_dialect import adapt_to_device, translate_config
from .hooks import *  # noqa: F401,F403
from .loops import EpochBasedTrainLoop, TestLoop, ValLoop
from .lr_schedule import LrConfigScheduler
from .optim import (AutocastOptimWrapper, TrainableParamsOptimWrapperConstructor,
                    resolve_precision)
from .randomness import seed_worker
from .runner import ActionRunner

__all__ = [
    'find_latest_checkpoint', 'read_checkpoint', 'ConfigError', 'apply_cfg_options',
    'adapt_to_device', 'translate_config', 'EpochBasedTrainLoop', 'ValLoop',
    'TestLoop',
    'LrConfigScheduler',
    'AutocastOptimWrapper', 'TrainableParamsOptimWrapperConstructor', 'resolve_precision',
    'seed_worker', 'ActionRunner'
]
