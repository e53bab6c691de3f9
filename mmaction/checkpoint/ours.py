"""Our own checkpoint files: full or ``save_tunable_only``, where a run keeps them, and the
release file made from them.

A training run writes ``epoch_N.pth`` (and, part-way into an epoch, ``iter_N.pth``) into its
work dir, in the plain form of :mod:`.io`. ``save_tunable_only`` checkpoints hold the
trainable parameters and the buffers; :func:`complete_tunable_only` fills the frozen
parameters in from the model, whose pretrained weights must have been loaded first.
"""
import glob
import hashlib
import io
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from mmaction.utils.fileio import write_bytes_atomic
from .io import CheckpointError, file_problem, read_checkpoint

#: ``meta`` key marking a checkpoint that holds only the trainable parameters and buffers.
TUNABLE_ONLY_KEY = 'save_tunable_only'
#: ``meta`` keys of a checkpoint written part-way into an epoch: every rank's random state
#: and the run's iterations per epoch (:mod:`mmaction.engine.resume`)
RNG_META, EPOCH_LENGTH_META = 'rng', 'epoch_length'
#: ``meta`` entries that only a resumed run reads (those two, and BadVideoHook's counts)
RUN_STATE_META = (RNG_META, 'bad_videos', EPOCH_LENGTH_META)


# ---------------------------------------------------------------------------- work dir
_CKPT_STEP = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def _checkpoints_newest_first(work_dir: str) -> List[str]:
    """The checkpoints of ``work_dir`` to resume from, best first: the one named in
    ``work_dir/last_checkpoint`` (when it exists, also in a moved work dir), then the
    ``epoch_N.pth``/``iter_N.pth`` by falling N (at the same N, ``iter`` before ``epoch``)."""
    named = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            name = f.read().strip()
        if name and osp.isfile(name):
            named.append(name)
        elif name and osp.isfile(osp.join(work_dir, osp.basename(name))):
            named.append(osp.join(work_dir, osp.basename(name)))  # work dir was moved
    found = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _CKPT_STEP.match(osp.basename(path))
        if match:
            found.append((match.group(1) == 'iter', int(match.group(2)), path))
    by_step = [path for *_, path in sorted(found, reverse=True)]
    return named + [p for p in by_step
                    if not any(osp.samefile(p, n) for n in named)]


def find_latest_checkpoint(work_dir: str,
                           skipped: Optional[List[Tuple[str, str]]] = None) -> Optional[str]:
    """The checkpoint to resume from: the one named in ``work_dir/last_checkpoint`` when that
    file exists and points at an existing file, otherwise the ``epoch_N.pth``/``iter_N.pth``
    with the highest N; a file that is truncated or not a checkpoint
    (:func:`~.io.file_problem`) is passed over for the next one, and (path, what is wrong)
    appended to ``skipped`` when given. ``None`` when there is none."""
    for path in _checkpoints_newest_first(work_dir):
        problem = file_problem(path)
        if problem is None:
            return path
        if skipped is not None:
            skipped.append((path, problem))
    return None


# ---------------------------------------------------------------------------- tunable only
def tunable_state_dict(model: nn.Module, state_dict: Dict[str, torch.Tensor]) -> dict:
    """The entries of ``state_dict`` to keep with ``save_tunable_only``: parameters with
    ``requires_grad=True`` and every buffer (buffers are small and may be updated)."""
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    params = {name for name, _ in model.named_parameters()}
    return {k: v for k, v in state_dict.items() if k in trainable or k not in params}


def complete_tunable_only(model: nn.Module, state: Dict[str, torch.Tensor], path: str,
                          info: dict) -> List[str]:
    """Fill the frozen parameters that a ``save_tunable_only`` checkpoint omits from the
    model's current (pretrained) weights, into ``state`` (the checkpoint's state dict, keys
    as in ``model.state_dict()``). ``info`` is the checkpoint's ``meta[TUNABLE_ONLY_KEY]``.
    Returns the filled keys.

    Every omitted key must be a frozen parameter of a backbone that loads pretrained weights;
    anything else means the checkpoint does not fit this model and raises
    :class:`CheckpointError`.
    """
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
    sources = {}
    for key in missing:
        owner = key.split('.')[0]
        sources.setdefault(owner, getattr(getattr(model, owner, None), 'pretrained', None))
    unsourced = sorted(owner for owner, pretrained in sources.items() if not pretrained)
    if unsourced:
        was = (info or {}).get('pretrained')
        raise CheckpointError(
            f'{path} holds only the trainable parameters; its {len(missing)} frozen ones must '
            f'come from pretrained weights, but model.{unsourced[0]}.pretrained is not set. '
            f'Set it as in the run that wrote the checkpoint'
            + (f' (--cfg-options model.{unsourced[0]}.pretrained={was})' if was else '') + '.')
    own = model.state_dict()
    for key in missing:
        state[key] = own[key]
    return missing


# ---------------------------------------------------------------------------- release
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
