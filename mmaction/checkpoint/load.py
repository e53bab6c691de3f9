"""Loading a recognizer's weights from a checkpoint: the one way for the runner (``load_from``,
``--resume``, ``tools/test.py``), ``init_recognizer`` and library code."""
import logging
import re
from collections import OrderedDict
from typing import Callable, Dict, Optional

import torch
from mmengine.logging import MMLogger
from torch import nn

from .frames import resample_clip_length
from .io import CheckpointError, checkpoint_state_dict, read_checkpoint
from .ours import TUNABLE_ONLY_KEY, complete_tunable_only


def load_into(model: nn.Module, path: str, strict: bool = True, *, checkpoint=None,
              init_weights: Optional[Callable[[], None]] = None, resuming: bool = False,
              logger: Optional[MMLogger] = None) -> dict:
    """Load the weights of the checkpoint ``path`` into ``model`` (not wrapped by DDP).

    Reads our checkpoints (full, or ``save_tunable_only``: then ``init_weights`` loads the
    pretrained weights first and the file's tensors go on top) and released AIM checkpoints
    (``{'meta', 'state_dict'}``, mmcv 1.x), or a bare state dict; a ``module.`` prefix is
    removed, and temporal tensors trained at another clip length are resampled
    (:mod:`.frames`). Then :func:`load_state_dict_checked` with ``strict``.

    Args:
        model: the recognizer.
        path: the file; it also names the file in messages.
        strict: every tensor of the model must come from the file and every tensor of the
            file must fit (a test, or inference). Otherwise (fine-tuning from ``load_from``,
            resuming) what the file lacks, or holds with another shape, keeps the model's
            value, with a warning.
        checkpoint: the file's content, when the caller has read it already (the runner
            shows it to its hooks first); otherwise :func:`read_checkpoint` reads ``path``.
        init_weights: what loads the pretrained weights under a ``save_tunable_only`` file;
            ``model.init_weights`` by default.
        resuming: the weights continue a run (with its optimizer state): a checkpoint of
            another clip length is refused instead of resampled.
        logger: where to log; mmengine's current logger by default.

    Returns:
        the checkpoint's ``meta`` (``{}`` when it has none).
    """
    logger = logger or MMLogger.get_current_instance()
    ckpt = read_checkpoint(path) if checkpoint is None else checkpoint
    meta = (ckpt.get('meta') or {}) if isinstance(ckpt, dict) else {}
    state = checkpoint_state_dict(ckpt, path)
    tunable_only = meta.get(TUNABLE_ONLY_KEY)
    if tunable_only:
        (init_weights or model.init_weights)()  # the pretrained backbone, then the file on top
        filled = complete_tunable_only(model, state, path, tunable_only)
        logger.info(
            f'{path} was saved with save_tunable_only: {tunable_only.get("kept")} tensors '
            f'from the file, {len(filled)} frozen parameters from the pretrained weights '
            f'({tunable_only.get("pretrained")}).')
    if resuming:
        resampled = resample_clip_length(model, state, path, logger)
        if resampled:
            raise CheckpointError(
                f'{path} was trained at another clip length ({resampled[0]}), so the run '
                'cannot resume from it: its optimizer state has that length too. Resume with '
                'the model.backbone.num_frames of the run that wrote it, or start a new '
                f'schedule from its weights with --cfg-options load_from={path}.')
    load_state_dict_checked(model, state, path, strict, logger)
    return meta


def load_state_dict_checked(model: nn.Module, state: Dict[str, torch.Tensor], path: str,
                            strict: bool = True, logger: Optional[MMLogger] = None):
    """``model.load_state_dict(state)`` with errors that name the file and the fix.

    The temporal tensors of a checkpoint trained at another clip length are resampled first
    (:mod:`.frames`), and modules may take derived buffers in another layout (AIM-Swin's
    flattened ``t_relative_coords``). With ``strict``, a tensor whose shape differs from the
    model's, and missing and unexpected keys, raise :class:`CheckpointError`; without, they
    are logged as a warning and the model keeps its own values for them (mmengine's
    ``load_from`` behaviour). Returns ``load_state_dict``'s missing and unexpected keys.
    """
    logger = logger or MMLogger.get_current_instance()
    metadata = getattr(state, '_metadata', None)  # module versions, as torch saved them
    state = OrderedDict(state)
    if metadata is not None:
        state._metadata = metadata
    resample_clip_length(model, state, path, logger)  # a checkpoint of another num_frames
    skipped = {}  # key -> what the log says of it
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as err:
        own = model.state_dict()
        mismatched = re.findall(r'size mismatch for ([\w.]+)', str(err))
        if not mismatched or any(k not in own or k not in state for k in mismatched):
            raise
        if strict:
            key = mismatched[0]
            raise CheckpointError(
                f'{path}: {key} has shape {tuple(state[key].shape)} in the file but '
                f'{tuple(own[key].shape)} in the model (num_classes or the backbone size '
                'differ from the config).') from None
        skipped = {k: f'{k} {tuple(state.pop(k).shape)} (model {tuple(own[k].shape)})'
                   for k in mismatched}
        result = model.load_state_dict(state, strict=False)  # what fits; the rest stays
    if strict and (result.missing_keys or result.unexpected_keys):
        raise CheckpointError(
            f'{path} does not match the model: {len(result.missing_keys)} missing keys '
            f'{result.missing_keys[:5]}, {len(result.unexpected_keys)} unexpected keys '
            f'{result.unexpected_keys[:5]}.')
    missing = [k for k in result.missing_keys if k not in skipped]
    notes = [f'{name} {keys}' for name, keys in (
        ('another shape than the model\'s, not loaded:', list(skipped.values())),
        ('missing', missing), ('unexpected', result.unexpected_keys)) if keys]
    # a warning when part of the model does not come from the file (only without strict)
    logger.log(logging.WARNING if notes else logging.INFO,
               f'Loaded {len(state)} tensors from {path}' + ''.join(f'; {n}' for n in notes))
    return result
