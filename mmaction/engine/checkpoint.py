"""Checkpoint files written by our runner: atomic, plain, loadable with ``weights_only=True``.

mmengine puts its ``MessageHub`` state into checkpoints as pickled ``HistoryBuffer`` objects
holding numpy arrays. Since torch 2.6 ``torch.load`` refuses such files by default
(``weights_only=True``), and allow-listing them is not safe: unpickling a ``HistoryBuffer``
needs ``builtins.getattr``, which would let a crafted file reach arbitrary attributes of the
allow-listed classes. So our checkpoints contain only tensors and plain Python containers
(:func:`to_plain` runs just before a checkpoint is written); :func:`read_checkpoint` loads
them with ``weights_only=True`` on every torch version and rebuilds the ``HistoryBuffer``
objects that mmengine's resume expects. Third-party files (OpenAI CLIP, released AIM
checkpoints) keep going through :func:`mmaction.checkpoint.safe_torch_load`.

``save_tunable_only`` checkpoints hold the trainable parameters and the buffers;
:func:`complete_tunable_only` fills the frozen parameters in from the model, whose pretrained
weights must have been loaded first.
"""
import glob
import hashlib
import io
import os.path as osp
import pickle
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from torch import nn

from mmaction.checkpoint.io import CheckpointError
from mmaction.utils.fileio import write_bytes_atomic

#: ``meta`` key marking a checkpoint that holds only the trainable parameters and buffers.
TUNABLE_ONLY_KEY = 'save_tunable_only'
_HISTORY_BUFFER_TAG = '__history_buffer__'


# ---------------------------------------------------------------------------- plain form
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
    """Turn the tagged dicts of :func:`to_plain` back into ``HistoryBuffer`` objects."""
    scalars = message_hub_state.get('log_scalars', {})
    for key, value in list(scalars.items()):
        if isinstance(value, dict) and value.get(_HISTORY_BUFFER_TAG):
            buffer = HistoryBuffer(max_length=value['max_length'])
            buffer._log_history = value['log_history'].cpu().numpy()
            buffer._count_history = value['count_history'].cpu().numpy()
            scalars[key] = buffer
    return message_hub_state


def read_checkpoint(path: str, map_location='cpu') -> dict:
    """Load a checkpoint file with ``weights_only=True`` (tensors and plain containers only).

    Raises ``ValueError`` naming the file and what to do when it holds other objects, e.g. a
    checkpoint written by stock mmengine (pickled ``HistoryBuffer``) or by mmcv with extra
    classes in ``meta``.
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
            f'{path} holds pickled Python objects besides tensors and plain containers '
            f'({detail.strip()}), so it is not loaded with torch.load(weights_only=True). '
            "Checkpoints written by this project's tools never do. If the file comes from a "
            'source you trust (e.g. a stock mmengine/mmaction2 run), extract its weights once: '
            "python -c \"import torch; ck = torch.load('IN', weights_only=False); "
            "torch.save({'state_dict': ck['state_dict']}, 'OUT')\" and load OUT.") from err
    if isinstance(ckpt, dict) and isinstance(ckpt.get('message_hub'), dict):
        restore_history_buffers(ckpt['message_hub'])
    return ckpt


# ---------------------------------------------------------------------------- release
#: ``meta`` entries that only a resumed run reads (per-rank random state, bad-video counts)
RUN_STATE_META = ('rng', 'bad_videos', 'epoch_length')


def publish_checkpoint(src: str, dst: str) -> Tuple[str, str]:
    """Write the weights of the training checkpoint ``src`` for release, as mmaction2's model
    zoo names its files: ``dst`` without ``.pth``, a dash, the first 8 hex digits of the
    file's sha256, ``.pth``.

    The file keeps ``state_dict`` (all of it: a ``save_tunable_only`` checkpoint stays
    tunable-only and loads on top of the pretrained backbone as before) and ``meta``, less
    what only resuming reads; the optimizer, scheduler and message-hub state are dropped, so
    it cannot be resumed from. Written atomically. Returns (path, sha256).
    """
    ckpt = read_checkpoint(src)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get('state_dict'), dict):
        found = sorted(ckpt)[:6] if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(f"{src}: expected a checkpoint {{'meta': ..., 'state_dict': ...}} "
                              f'as tools/train.py writes them; found {found}')
    meta = {k: v for k, v in (ckpt.get('meta') or {}).items() if k not in RUN_STATE_META}
    buffer = io.BytesIO()
    torch.save({'meta': meta, 'state_dict': ckpt['state_dict']}, buffer)
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    stem = dst[:-len('.pth')] if dst.endswith('.pth') else dst
    path = f'{stem}-{sha256[:8]}.pth'
    write_bytes_atomic(path, data)
    return path, sha256


# ---------------------------------------------------------------------------- resume
_CKPT_STEP = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def find_latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume from: the one named in ``work_dir/last_checkpoint`` when that
    file exists and points at an existing file, otherwise the ``epoch_N.pth``/``iter_N.pth``
    with the highest N. ``None`` when there is none."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            return named
        if named and osp.isfile(osp.join(work_dir, osp.basename(named))):
            return osp.join(work_dir, osp.basename(named))  # work dir was moved
    found = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _CKPT_STEP.match(osp.basename(path))
        if match:
            found.append((match.group(1) == 'iter', int(match.group(2)), path))
    return max(found)[2] if found else None


# ---------------------------------------------------------------------------- tunable only
def tunable_state_dict(model: nn.Module, state_dict: Dict[str, torch.Tensor]) -> dict:
    """The entries of ``state_dict`` to keep with ``save_tunable_only``: parameters with
    ``requires_grad=True`` and every buffer (buffers are small and may be updated)."""
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    params = {name for name, _ in model.named_parameters()}
    return {k: v for k, v in state_dict.items() if k in trainable or k not in params}


def complete_tunable_only(model: nn.Module, checkpoint: dict, path: str) -> List[str]:
    """Fill the frozen parameters that a ``save_tunable_only`` checkpoint omits from the
    model's current (pretrained) weights, in place. Returns the filled keys.

    Every omitted key must be a frozen parameter of a backbone that loads pretrained weights;
    anything else means the checkpoint does not fit this model and raises ``ValueError``.
    """
    state = checkpoint['state_dict']
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
        checkpoint['state_dict'] = state
    params = dict(model.named_parameters())
    missing = [k for k in model.state_dict() if k not in state]
    trainable = [k for k in missing if k in params and params[k].requires_grad]
    not_params = [k for k in missing if k not in params]
    if trainable or not_params:
        raise CheckpointError(
            f'{path} was saved with save_tunable_only but lacks {len(trainable + not_params)} '
            f'trainable parameters or buffers of this model, e.g. {(trainable + not_params)[:5]}. '
            'The model trains other parameters than the run that wrote it: keep '
            'model.trainable_params (and the adapters of the backbone) as they were.')
    info = checkpoint.get('meta', {}).get(TUNABLE_ONLY_KEY) or {}
    sources = {}
    for key in missing:
        owner = key.split('.')[0]
        sources.setdefault(owner, getattr(getattr(model, owner, None), 'pretrained', None))
    unsourced = sorted(owner for owner, pretrained in sources.items() if not pretrained)
    if unsourced:
        was = info.get('pretrained')
        raise CheckpointError(
            f'{path} holds only the trainable parameters; its {len(missing)} frozen ones must '
            f'come from pretrained weights, but model.{unsourced[0]}.pretrained is not set. '
            f'Set it as in the run that wrote the checkpoint'
            + (f' (--cfg-options model.{unsourced[0]}.pretrained={was})' if was else '') + '.')
    own = model.state_dict()
    for key in missing:
        state[key] = own[key]
    return missing
