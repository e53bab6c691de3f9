"""Loading a recognizer's weights from a checkpoint."""
import re
from typing import Dict, Optional

import torch
from mmengine.logging import MMLogger
from torch import nn

from .frames import resample_clip_length
from .io import CheckpointError, checkpoint_state_dict, read_checkpoint


def load_state_dict_checked(model: nn.Module, state: Dict[str, torch.Tensor], path: str,
                            strict: bool = True, logger: Optional[MMLogger] = None):
    """``model.load_state_dict(state)`` with errors that name the file and the fix.

    The temporal tensors of a checkpoint trained at another clip length are resampled first
    (:mod:`.frames`), and modules may take derived buffers in another layout (AIM-Swin's
    flattened ``t_relative_coords``). Any other tensor whose shape differs from the model's
    is refused; with ``strict``, so are missing and unexpected keys."""
    logger = logger or MMLogger.get_current_instance()
    state = dict(state)
    resample_clip_length(model, state, path, logger)  # a checkpoint of another num_frames
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as err:
        found = re.search(r'size mismatch for ([\w.]+)', str(err))
        own = model.state_dict()
        if found is None or found.group(1) not in own or found.group(1) not in state:
            raise
        key = found.group(1)
        raise CheckpointError(f'{path}: {key} has shape {tuple(state[key].shape)} in the file but '
                         f'{tuple(own[key].shape)} in the model (num_classes or the backbone '
                         'size differ from the config).') from None
    if strict and (result.missing_keys or result.unexpected_keys):
        raise CheckpointError(
            f'{path} does not match the model: {len(result.missing_keys)} missing keys '
            f'{result.missing_keys[:5]}, {len(result.unexpected_keys)} unexpected keys '
            f'{result.unexpected_keys[:5]}.')
    logger.info(f'Loaded {len(state)} tensors from {path}'
                + (f'; missing {result.missing_keys}' if result.missing_keys else '')
                + (f'; unexpected {result.unexpected_keys}' if result.unexpected_keys else ''))
    return result


def load_aim_checkpoint(model: nn.Module, path: str, strict: bool = True,
                        logger: Optional[MMLogger] = None) -> dict:
    """Load a released AIM checkpoint (``{'meta', 'state_dict'}``, keys ``backbone.*`` and
    ``cls_head.*``) into a recognizer. Returns the checkpoint's ``meta``."""
    ckpt = read_checkpoint(path)
    load_state_dict_checked(model, checkpoint_state_dict(ckpt, path), path, strict, logger)
    return ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
