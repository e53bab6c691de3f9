"""Starting the Swin backbones from Microsoft's ImageNet Swin files or Video Swin checkpoints.

The ImageNet files (``swin_base_patch4_window7_224_22k.pth`` and its siblings) hold
``{'model': state_dict}`` of a 2D Swin: a patch embedding ``patch_embed.proj.weight`` of shape
(C, 3, 4, 4), one relative-position table ((2w-1)^2, heads) per block, the derived buffers
``relative_position_index`` and ``attn_mask``, and a classifier ``head.*``. To start a video
backbone from one (:func:`load_swin_imagenet`):

- the patch embedding is inflated to (C, 3, pt, 4, 4) by repeating it over the pt frames of a
  temporal patch and dividing by pt, so a clip of identical frames gives the image's features;
- relative-position tables are bicubically resized when the model's window differs from the
  file's, and for 3D windows (Video Swin) repeated over the 2*wt - 1 temporal offsets;
- ``head.*`` is dropped, and the buffers are rebuilt by the model for its own geometry.
"""
import os.path as osp
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger
from torch import nn

from .io import CheckpointError, check_same_architecture, checkpoint_state_dict, read_checkpoint

SWIN_RELEASES = 'https://github.com/SwinTransformer/storage/releases/download/v1.0.0/'
EXPECTED_LAYOUT = ("Microsoft's ImageNet Swin layout, a dict {'model': {'patch_embed.proj."
                   "weight': (C, 3, 4, 4), 'layers.0.blocks.0.attn.qkv.weight': ..., "
                   "'norm.weight': ..., 'head.weight': ...}} such as "
                   'swin_base_patch4_window7_224_22k.pth')
#: Model keys an ImageNet file cannot have: AIM's additions.
AIM_ONLY = ('Adapter', 'temporal_position_bias_table')
#: Buffers derived from the geometry; every model builds its own.
DERIVED = ('relative_position_index', 'attn_mask', 't_relative_coords')


def _check_file(path: str, what: str) -> None:
    if not osp.isfile(path):
        name = osp.basename(path)
        raise FileNotFoundError(
            f'model.backbone.pretrained={path!r}: no such file. It should be {what}'
            + (f'; Microsoft publishes it at {SWIN_RELEASES}{name}' if name.startswith('swin_')
               else '') + '. Download it and pass its path with --cfg-options '
            'model.backbone.pretrained=/path/to/file.pth.')


def read_swin_imagenet(path: str) -> Dict[str, torch.Tensor]:
    """The ``model`` state dict of an ImageNet Swin file, float32, or a ``ValueError`` that
    names the expected layout."""
    _check_file(path, EXPECTED_LAYOUT)
    ckpt = read_checkpoint(path)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get('model'), dict):
        found = list(ckpt)[:6] if isinstance(ckpt, dict) else f'a {type(ckpt).__name__}'
        hint = ''
        if isinstance(ckpt, dict) and 'state_dict' in ckpt:
            hint = (" It has a 'state_dict': it looks like a Video Swin/AIM/mmaction "
                    'checkpoint. Load a whole recognizer from it with load_from=PATH, or a '
                    'Video Swin backbone with model.backbone.pretrained2d=False.')
        raise CheckpointError(f'{path}: expected {EXPECTED_LAYOUT}; found top-level keys {found}.'
                              + hint)
    state = ckpt['model']
    if 'patch_embed.proj.weight' not in state:
        raise CheckpointError(f"{path}: ckpt['model'] has no 'patch_embed.proj.weight', so it is "
                              f'not an ImageNet Swin; expected {EXPECTED_LAYOUT}. Its first keys: '
                              f'{list(state)[:6]}.')
    return {k: v.float() for k, v in state.items() if isinstance(v, torch.Tensor)}


def inflate_patch_embed(weight: torch.Tensor, frames: int) -> torch.Tensor:
    """(C, 3, h, w) -> (C, 3, frames, h, w), repeated over time and divided by ``frames``:
    on a clip of identical frames the 3D patch embedding equals the 2D one."""
    return weight.unsqueeze(2).repeat(1, 1, frames, 1, 1) / frames


def resize_bias_table(table: torch.Tensor, window: Tuple[int, ...]) -> torch.Tensor:
    """A 2D table ((2s-1)^2, heads) for a window ``(wh, ww)`` or ``(wt, wh, ww)``: resized
    bicubically to (2wh-1)(2ww-1) rows if the file's window differs, then, for 3D windows,
    repeated for each of the 2wt-1 temporal offsets (the table's outermost index)."""
    rows, heads = table.shape
    side = int(round(rows**0.5))
    if side * side != rows:
        raise ValueError(f'a 2D relative-position table has (2w-1)^2 rows; got {rows}')
    target = (2 * window[-2] - 1, 2 * window[-1] - 1)
    if (side, side) != target:
        grid = table.t().reshape(1, heads, side, side)
        grid = F.interpolate(grid, size=target, mode='bicubic', align_corners=False)
        table = grid.reshape(heads, -1).t()
    if len(window) == 3:
        table = table.repeat(2 * window[0] - 1, 1)
    return table.contiguous()


def _check_shapes(state: Dict[str, torch.Tensor], own: Dict[str, torch.Tensor],
                  source: str) -> None:
    for key, value in state.items():
        if key in own and own[key].shape != value.shape:
            raise CheckpointError(
                f'{source}: {key} has shape {tuple(value.shape)} in the file but '
                f'{tuple(own[key].shape)} in the model. The file is another Swin size: '
                'match model.backbone.embed_dim/depths/num_heads to it (Swin-T 96/[2,2,6,2]/'
                '[3,6,12,24], Swin-S 96/[2,2,18,2]/[3,6,12,24], Swin-B 128/[2,2,18,2]/'
                '[4,8,16,32]).')


def _group(keys: List[str], groups: Tuple[str, ...]) -> str:
    counts = {}
    for key in keys:
        group = next((g for g in groups if g in key), 'other')
        counts[group] = counts.get(group, 0) + 1
    return ', '.join(f'{g} ({n})' for g, n in counts.items()) or 'none'


def load_swin_imagenet(backbone: nn.Module, path: str, logger: MMLogger = None) -> List[str]:
    """Start ``backbone`` (:class:`SwinTransformer2D`, its adapter variant or
    :class:`SwinTransformer3D`) from an ImageNet Swin file.

    Raises ``ValueError`` when the file is not in :data:`EXPECTED_LAYOUT` or holds another
    Swin size. Returns the model's parameters left at their initial values (AIM's adapters
    and temporal tables); they are logged.
    """
    logger = logger or MMLogger.get_current_instance()
    file_state = read_swin_imagenet(path)
    own = backbone.state_dict()
    frames = backbone.patch_size[0]
    state, dropped, resized = {}, [], []
    for key, value in file_state.items():
        if key.startswith('head.') or key.endswith(DERIVED):
            dropped.append(key)
            continue
        if key == 'patch_embed.proj.weight' and value.ndim == 4 and own[key].ndim == 5:
            value = inflate_patch_embed(value, frames)
        elif key.endswith('relative_position_bias_table') and key in own:
            window = backbone.get_submodule(key.rsplit('.', 1)[0]).window_size
            if own[key].shape[1] == value.shape[1] and own[key].shape != value.shape:
                resized.append(key)
                value = resize_bias_table(value, window)
        state[key] = value
    _check_shapes(state, own, path)

    missing, _ = check_same_architecture(
        path, state, [k for k in own if not k.endswith(DERIVED)], AIM_ONLY, what='Swin',
        fix='Match model.backbone.embed_dim/depths/num_heads/patch_norm to the file.')
    backbone.load_state_dict(state, strict=False)
    notes = [f'patch embedding inflated over {frames} frames'
             if own['patch_embed.proj.weight'].ndim == 5 else 'patch embedding per frame']
    if resized:
        notes.append(f'{len(resized)} relative-position tables resized/repeated to the window '
                     f'{backbone.window_size}')
    logger.info(
        f'Loaded ImageNet Swin weights from {path} ({len(state)} tensors; {"; ".join(notes)}). '
        f'Dropped from the file: {_group(dropped, ("head",) + DERIVED)} (the model '
        f'builds its own buffers for its geometry). Not in the file, left at their '
        f'initialisation: {_group(missing, AIM_ONLY)}.')
    return missing


def load_video_swin(backbone: nn.Module, path: str, logger: MMLogger = None) -> None:
    """Load a Video Swin checkpoint into :class:`SwinTransformer3D`: a backbone state dict,
    or a recognizer checkpoint (``{'state_dict': {'backbone.*': ..., 'cls_head.*': ...}}``)
    whose backbone part is used. Every backbone tensor must be present with its shape."""
    logger = logger or MMLogger.get_current_instance()
    _check_file(path, 'a Video Swin checkpoint (or set pretrained2d=True for an ImageNet file)')
    ckpt = read_checkpoint(path)
    if isinstance(ckpt, dict) and isinstance(ckpt.get('model'), dict):
        raise CheckpointError(f"{path} has a 'model' key: it is an ImageNet (2D) Swin file. Set "
                              'model.backbone.pretrained2d=True to inflate it.')
    state = checkpoint_state_dict(ckpt, path)
    if any(k.startswith('backbone.') for k in state):
        state = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    own = backbone.state_dict()
    _check_shapes(state, own, path)
    missing = sorted(k for k in own if k not in state and not k.endswith(DERIVED))
    unexpected = sorted(k for k in state if k not in own)
    if missing or unexpected:
        raise CheckpointError(f'{path} does not match the backbone: {len(missing)} missing keys '
                              f'{missing[:3]}, {len(unexpected)} unexpected keys {unexpected[:3]}. '
                              'Match model.backbone.embed_dim/depths/num_heads/window_size to it.')
    backbone.load_state_dict(state, strict=False)
    logger.info(f'Loaded Video Swin weights from {path} ({len(state)} tensors).')
