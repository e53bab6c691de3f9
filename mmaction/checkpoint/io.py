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
import re
import zipfile
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

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


#: how the files torch.save writes begin: a zip archive (torch >= 1.6) or, in the legacy
#: format, a pickle (protocol 2 or higher)
_ZIP_MAGIC, _PICKLE_MAGIC = b'PK\x03\x04', b'\x80'
_NEWER_FORMAT = re.compile(r'PyTorch file with version (\d+), but the maximum supported '
                           r'version for reading is (\d+)')


def file_problem(path: str) -> Optional[str]:
    """What makes the existing file ``path`` unreadable as a torch checkpoint, judged from its
    first bytes and its end (cheap: no tensor is read), or ``None`` when it looks whole.

    A torch zip archive ends with its zip directory; a file cut short (an interrupted copy,
    download or save, a full disk) lacks it. The archive records the sizes of its entries
    only in that directory, so how long the whole file was cannot be told.
    """
    size = osp.getsize(path)
    if size == 0:
        return 'the file is empty (0 bytes)'
    with open(path, 'rb') as f:
        head = f.read(4)
    if head == _ZIP_MAGIC:
        if not zipfile.is_zipfile(path):
            return (f'truncated: a torch zip archive cut short at {size} bytes (the zip '
                    'directory that ends a complete file is missing, and the full size is '
                    'recorded only there); copy it again or use an earlier checkpoint')
        return None
    if head.startswith(_PICKLE_MAGIC):
        return None  # torch's legacy format (``_use_new_zipfile_serialization=False``)
    return (f'not a checkpoint: its {size} bytes begin {head!r}, but a torch checkpoint is a '
            "zip archive (beginning b'PK\\x03\\x04') or a legacy torch pickle")


def read_checkpoint(path: str, map_location='cpu'):
    """The content of the weights file ``path``, loaded with ``weights_only=True``.

    Returns what the file holds (for our checkpoints a dict with ``meta``, ``state_dict``
    and, written by a training run, ``message_hub`` with its ``HistoryBuffer`` objects
    rebuilt). Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError`,
    in one sentence naming the file and what is wrong with it, for a file that is not a
    checkpoint, is truncated (:func:`file_problem`), was written by a newer torch than this
    one reads, or holds other objects than tensors and plain containers (e.g. written by
    stock mmengine, pickled ``HistoryBuffer``, or by mmcv with extra classes in ``meta``).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    problem = file_problem(path)
    if problem:
        raise CheckpointError(f'{path}: {problem}.')
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
    except (RuntimeError, OSError, EOFError, KeyError, ValueError) as err:
        newer = _NEWER_FORMAT.search(str(err))
        if newer:
            raise CheckpointError(
                f'{path}: written by a newer PyTorch than this one ({torch.__version__}): its '
                f'file format version is {newer.group(1)}, this torch reads versions up to '
                f'{newer.group(2)}. Upgrade torch to load it.') from err
        detail = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise CheckpointError(f'{path}: not a readable torch checkpoint '
                              f'({osp.getsize(path)} bytes; torch.load failed: {detail}).') from err
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
