"""Training and testing engine: AIM's config dialect on mmengine's Runner.

Importing this package registers the runner, training loop, hooks, optimizer glue,
learning-rate scheduler and (through :mod:`mmaction.utils.randomness`) the data loader
``worker_init_fn`` in the ``mmaction`` registries. Checkpoint files are read, written and
loaded by :mod:`mmaction.checkpoint`; the engine decides when (its ``CheckpointHook``) and
resumes runs (:mod:`.resume`).
"""
from .config import ConfigError, adapt_to_device, apply_cfg_options, load_config, translate_config
from .hooks import *  # noqa: F401,F403
from .loops import EpochBasedTrainLoop, TestLoop, ValLoop
from .lr_schedule import LrConfigScheduler
from .optim import AutocastOptimWrapper, TrainableParamsOptimWrapperConstructor, resolve_precision
from .runner import ActionRunner

__all__ = [
    'ConfigError', 'apply_cfg_options', 'load_config',
    'adapt_to_device', 'translate_config', 'EpochBasedTrainLoop', 'ValLoop',
    'TestLoop',
    'LrConfigScheduler',
    'AutocastOptimWrapper', 'TrainableParamsOptimWrapperConstructor', 'resolve_precision',
    'ActionRunner'
]
