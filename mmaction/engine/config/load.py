"""A config as every tool gets it: the file read, ``--cfg-options`` checked and applied, the
dialect translated (the sequence the tools, the inference API and the benchmarks repeated)."""
import copy
import os
import os.path as osp
from typing import Any, Dict, Optional, Union

from mmengine.config import Config

from .dialect import translate_config
from .options import apply_cfg_options
from .schema import ConfigError


def read_config(path: Union[str, os.PathLike]) -> Config:
    """``Config.fromfile(path)`` with errors that say which file and what is wrong: the file
    as written, for what must be known before anything logs (the launcher's backend) or
    which dialect it is in."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'config file {path} does not exist' + (' (it is a directory)' if osp.isdir(path)
                                                     else '')
            + '. Give the path of a config, e.g. configs/recognition/vit/vitclip_base_k400.py.')
    try:
        return Config.fromfile(os.fspath(path))
    except SyntaxError as err:
        raise ConfigError(f'{path} is not valid Python: {err}') from err


def load_config(config: Union[str, os.PathLike, Config],
                options: Optional[Dict[str, Any]] = None) -> Config:
    """The mmengine Runner config of ``config`` (a file, or a :class:`Config`, which is not
    modified) with ``options`` (``--cfg-options``) checked and applied, whichever dialect it
    is written in. Device-dependent choices are left to :func:`adapt_to_device`."""
    if isinstance(config, (str, os.PathLike)):
        cfg = read_config(config)
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError(f'config must be a file path or an mmengine Config, got '
                        f'{type(config).__name__}')
    apply_cfg_options(cfg, options)
    return translate_config(cfg)
