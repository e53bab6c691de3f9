"""Reading checkpoint files safely, and the plain form our checkpoints are written in.

Every weights file this package reads, ours or a third party's (released AIM checkpoints,
OpenAI CLIP, ImageNet ViT and Swin files), goes through :func:`read_checkpoint`: ``torch.load``
with ``weights_only=True``, tensors and plain containers only, never pickled code.

mmengine puts its ``MessageHub`` state into checkpoints as pickled ``HistoryBuffer`` objects
holding numpy arrays. Since torch 2.6 ``torch.load`` refuses such files by default, and
allow-listing them is not safe: unpickling a ``HistoryBuffer`` needs ``builtins.getattr``,
which would let a crafted file reach arbitrary attributes of the allow-listed classes. So our
checkpoints contain only tensors and plain Python containers (:func:`to_plain` runs just
before a checkpoint is written); :func:`read_checkpoint` rebuilds the ``HistoryBuffer``
objects that mmengine's resume expects.
"""
import os.path as osp
import pickle
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from mmaction.utils.cli import user_error


@user_error
class CheckpointError(ValueError):
    """A weights file that cannot be loaded into the model: another layout, pickled objects
    beyond tensors, tensors that do not fit. The message names the file and the fix."""


def check_same_architecture(source: str, file_keys: Iterable[str], model_keys: Iterable[str],
                            aim_only: Sequence[str], *, what: str, fix: str
                            ) -> Tuple[List[str], List[str]]:
    """Compare the keys of an image model's file with those of the backbone it starts.

    Returns (missing, extra): model keys the file lacks (AIM's own parameters, named by a part
    in ``aim_only``, which start from their initialisation) and file keys the model lacks.
    Raises :class:`CheckpointError` when the file has keys the model lacks or lacks keys that
    are not AIM's: the file is a different ``what`` (the message ends with ``fix``).
    """
    file_keys, model_keys = set(file_keys), set(model_keys)
    extra = sorted(file_keys - model_keys)
    missing = sorted(model_keys - file_keys)
    foreign = [k for k in missing if not any(part in k for part in aim_only)]
    if extra or foreign:
        detail = []
        if extra:
            detail.append(f'{len(extra)} file keys the model lacks, e.g. {extra[:3]}')
        if foreign:
            detail.append(f'{len(foreign)} model keys the file lacks, e.g. {foreign[:3]}')
        raise CheckpointError(f'{source}: the file is a different {what} from the backbone '
                              f'({"; ".join(detail)}). {fix}')
    return missing, extra


_HISTORY_BUFFER_TAG = '__history_buffer__'


def to_plain(obj):
    """Copy of ``obj`` with numpy arrays as tensors, numpy scalars as Python numbers and
    mmengine ``HistoryBuffer`` objects as tagged dicts: everything ``torch.load`` accepts with
    ``weights_only=True`` and no allow-list."""
    if isinstance(obj, HistoryBuffer):
        return {_HISTORY_BUFFER_TAG: True, 'max_length': obj.max_length,
                'log_history': torch.from_numpy(np.array(obj._log_history)),
                'count_history': torch.from_numpy(np.array(obj._count_history))}
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy()) if obj.dtype.kind in 'biufc' else obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [to_plain(v) for v in obj]
        return items if isinstance(obj, list) else tuple(items)
    return obj


def restore_history_buffers(message_hub_state: dict) -> dict:
    """Turn the tagged dicts of :func:`to_plain` back into ``HistoryBuffer`` objects, in
    place; returns ``message_hub_state``."""
    scalars = message_hub_state.get('log_scalars', {})
    for key, value in list(scalars.items()):
        if isinstance(value, dict) and value.get(_HISTORY_BUFFER_TAG):
            buffer = HistoryBuffer(max_length=value['max_length'])
            buffer._log_history = value['log_history'].cpu().numpy()
            buffer._count_history = value['count_history'].cpu().numpy()
            scalars[key] = buffer
    return message_hub_state


def read_checkpoint(path: str, map_location='cpu'):
    """The content of the weights file ``path``, loaded with ``weights_only=True``.

    Returns what the file holds (for our checkpoints a dict with ``meta``, ``state_dict``
    and, written by a training run, ``message_hub`` with its ``HistoryBuffer`` objects
    rebuilt). Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError`,
    naming the file and what to do, for a file that holds other objects than tensors and
    plain containers (e.g. written by stock mmengine, pickled ``HistoryBuffer``, or by mmcv
    with extra classes in ``meta``).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()
        detail = next((line for line in first if 'GLOBAL' in line or 'Unsupported' in line),
                      first[0] if first else '')
        raise CheckpointError(
            f'{path} holds pickled Python objects besides tensors and plain containers, '
            'which are not loaded from files of unknown origin (torch.load '
            f'weights_only=True refused: {detail.strip()}). Checkpoints written by this '
            "project's tools never do. If the file comes from a source you trust (e.g. a "
            'stock mmengine/mmaction2 run), extract its weights once: '
            "python -c \"import torch; ck = torch.load('IN', weights_only=False); "
            "torch.save({'state_dict': ck['state_dict']}, 'OUT')\" and load OUT.") from err
    if isinstance(ckpt, dict) and isinstance(ckpt.get('message_hub'), dict):
        restore_history_buffers(ckpt['message_hub'])
    return ckpt


def checkpoint_state_dict(ckpt, path: str = '<checkpoint>') -> Dict[str, torch.Tensor]:
    """The parameter dict of an mmcv/mmengine checkpoint (``state_dict`` key) or a bare state
    dict, with the ``module.`` prefix of DDP-wrapped saves removed (the one place that
    removes it). Raises :class:`CheckpointError` for anything else."""
    if isinstance(ckpt, dict) and isinstance(ckpt.get('state_dict'), dict):
        state = ckpt['state_dict']
    elif isinstance(ckpt, dict) and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        state = ckpt
    else:
        keys = list(ckpt)[:6] if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(f"{path}: expected {{'meta': ..., 'state_dict': {{...}}}} or a bare "
                              f'state dict; found {keys}')
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    return state
