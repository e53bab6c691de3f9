"""Configs: read, checked, translated. :func:`load_config` is what every tool runs.

* :mod:`.schema`: the keys of both dialects, what a ``type`` names, where the pipelines and
  frame samplers are; :class:`ConfigError`.
* :mod:`.options`: ``--cfg-options`` checked against the config and its classes, then merged.
* :mod:`.checks`: consistency checks (clip length, class counts, input files).
* :mod:`.dialect`: AIM's dialect translated into mmengine's; choices that need the device.
* :mod:`.load`: :func:`read_config` (the file) and :func:`load_config` (file, options,
  translation).

It lives in the engine because the translation is the engine's: the precision glue of
:mod:`mmaction.engine.optim` and the engine's always-on hooks.
"""
from .checks import check_input_files, check_multi_label, check_trainable
from .dialect import adapt_to_device, is_legacy_dialect, translate_config
from .load import load_config, read_config
from .options import apply_cfg_options
from .schema import ConfigError

__all__ = ['ConfigError', 'adapt_to_device', 'apply_cfg_options', 'check_input_files',
           'check_multi_label', 'check_trainable', 'is_legacy_dialect', 'load_config',
           'read_config', 'translate_config']
