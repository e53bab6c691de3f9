"""Checkpoints trained at another clip length than the model's ``num_frames``.

Only two kinds of tensor depend on the clip length, and the backbones already resample both
when a clip has another length than they are sized for:

- ViT_CLIP's ``temporal_embedding`` (1, T, D), linearly over time;
- AIM-Swin's ``temporal_position_bias_table`` (2T'-1, heads), linearly over the offsets
  with the ends and the centre kept (T' temporal tokens = frames / temporal patch size).

:func:`resample_clip_length` applies the same resampling when a checkpoint of T frames
is loaded into a model sized for another T, so that a model trained at 8 frames tests at 16
(``--cfg-options model.backbone.num_frames=16``) and AIM's released 32-frame checkpoints load
into 8- or 16-frame configs. The result equals what the checkpoint's own model computes on
clips of the new length. The derived ``t_relative_coords`` buffer is rebuilt by the module
itself (:class:`~mmaction.models.backbones.swin2d_adapter.SpaceTimeWindowAttention`).
"""
from typing import Dict, List, Optional

import torch
from mmengine.logging import MMLogger
from torch import nn


def _embedding_fits(value: torch.Tensor, own: torch.Tensor) -> bool:
    return value.ndim == own.ndim == 3 and value.shape[0] == own.shape[0] == 1 and \
        value.shape[2] == own.shape[2]


def _table_fits(value: torch.Tensor, own: torch.Tensor) -> bool:
    return value.ndim == own.ndim == 2 and value.shape[1] == own.shape[1] and \
        value.shape[0] % 2 == 1 and own.shape[0] % 2 == 1


def resample_clip_length(model: nn.Module, state: Dict[str, torch.Tensor], source: str,
                         logger: Optional[MMLogger] = None) -> List[str]:
    """Resample, in ``state`` (keys as in ``model.state_dict()``), the temporal tensors whose
    frame count differs from the model's; log what changed, naming both lengths. Returns
    the keys resampled. Tensors of any other shape mismatch are left for the loader to
    refuse."""
    from mmaction.models.backbones.swin2d_adapter import resample_temporal_table
    from mmaction.models.common.embeddings import resize_temporal_embedding
    logger = logger or MMLogger.get_current_instance()
    own = model.state_dict()
    embeddings, tables = [], []
    for key, value in list(state.items()):
        mine = own.get(key)
        if mine is None or not isinstance(value, torch.Tensor) or mine.shape == value.shape:
            continue
        if key.endswith('temporal_embedding') and _embedding_fits(value, mine):
            with torch.no_grad():
                state[key] = resize_temporal_embedding(value.float(), mine.shape[1]).to(
                    value.dtype).contiguous()
            embeddings.append((key, value.shape[1], mine.shape[1]))
        elif key.endswith('temporal_position_bias_table') and _table_fits(value, mine):
            with torch.no_grad():
                state[key] = resample_temporal_table(value.float(), (mine.shape[0] + 1) // 2
                                                     ).to(value.dtype).contiguous()
            tables.append((key, (value.shape[0] + 1) // 2, (mine.shape[0] + 1) // 2))
    for key, was, now in embeddings:
        logger.info(f'{source}: {key} was trained for clips of T={was} frames and the model '
                    f'has num_frames={now}; interpolated it linearly from T={was} to T={now}.')
    if tables:
        pairs = sorted({(was, now) for _, was, now in tables})
        logger.info(
            f'{source}: {len(tables)} temporal_position_bias_table tensors were trained for '
            + ', '.join(f"T'={was} temporal tokens ({2 * was - 1} offsets)" for was, _ in pairs)
            + ' and the model has ' + ', '.join(f"T'={now}" for _, now in pairs)
            + '; interpolated them linearly from '
            + ', '.join(f"T'={was} to T'={now}" for was, now in pairs) + '.')
    return [k for k, _, _ in embeddings + tables]
