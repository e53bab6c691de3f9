"""A small CLIP-shaped image model, pretrained here on single synthetic frames.

The newcomer's benchmark cannot download CLIP, so it makes a stand-in: an image transformer
with the module names of OpenAI's visual tower (:class:`CLIPImageTower`), trained for about a
minute on still frames drawn like the benchmark's (:mod:`mmaction.synthetic.videos`) and
saved as a TorchScript archive in OpenAI's layout, so that AIM loads it through the same
``pretrained=`` path as ``ViT-B-16.pt``.

It learns what an image model knows and nothing about motion: every training image is a
single frame. Its targets:

* per patch token: which shape (or background) covers the patch, and where that object's
  centre lies relative to the patch (dense recognition and localisation);
* from the class token: a coarse occupancy map of the image (which cells hold an object).

Like CLIP's features, these then carry what and where, which AIM's frozen backbone needs.
"""
import time
from typing import Optional

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger
from torch import nn

from mmaction.checkpoint.openai_format import CLIPImageTower, save_openai_clip
from mmaction.synthetic.videos import SHAPES, render_clip, sample_clip_spec

OCC_ROWS, OCC_COLS = 4, 8  # class-token occupancy map


def _still_batch(rng: np.random.Generator, n: int, render_size: int, size: int, patch: int):
    """Random single frames (one or two lanes) resized to ``size``, with their targets."""
    grid = size // patch
    centres = (np.arange(grid) + 0.5) * patch
    yy, xx = np.meshgrid(centres, centres, indexing='ij')
    cell_y = (np.arange(OCC_ROWS) + 0.5) * size / OCC_ROWS
    cell_x = (np.arange(OCC_COLS) + 0.5) * size / OCC_COLS
    images = np.empty((n, size, size, 3), np.uint8)
    cls_t = np.zeros((n, grid * grid), np.int64)  # 0 = background, 1 + shape index
    off_t = np.zeros((n, grid * grid, 2), np.float32)  # object centre - patch centre, / patch
    occ_t = np.zeros((n, OCC_ROWS * OCC_COLS), np.float32)
    scale = size / render_size
    for i in range(n):
        lanes = int(rng.integers(1, 3))
        spec = sample_clip_spec(rng, int(rng.integers(2**lanes)), render_size, 1, lanes)
        images[i] = cv2.resize(render_clip(spec)[0], (size, size), interpolation=cv2.INTER_AREA)
        for obj in spec.objects:
            x, y, r = obj.start[0] * scale, obj.start[1] * scale, obj.radius * scale
            dx = (x - xx + size / 2) % size - size / 2  # horizontal wrap-around
            dy = y - yy
            near = (dx**2 + dy**2 < r**2 + (patch / 2)**2).reshape(-1)
            cls_t[i, near] = 1 + SHAPES.index(obj.shape)
            off_t[i, near, 0] = np.clip(dx.reshape(-1)[near] / patch, -1.5, 1.5)
            off_t[i, near, 1] = np.clip(dy.reshape(-1)[near] / patch, -1.5, 1.5)
            rows = np.abs(cell_y - y) < r + size / OCC_ROWS / 2
            cx = np.abs((cell_x - x + size / 2) % size - size / 2)
            cols = cx < r + size / OCC_COLS / 2
            occ_t[i] = np.maximum(occ_t[i], (rows[:, None] & cols[None]).reshape(-1))
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    return x, torch.from_numpy(cls_t), torch.from_numpy(off_t), torch.from_numpy(occ_t)


class _PretrainHeads(nn.Module):
    """Heads used only while pretraining (not saved): dense shape/offset and occupancy."""

    def __init__(self, width: int):
        super().__init__()
        self.dense = nn.Linear(width, 1 + len(SHAPES) + 2)
        self.occupancy = nn.Linear(width, OCC_ROWS * OCC_COLS)


def _tokens(tower: CLIPImageTower, x: torch.Tensor) -> torch.Tensor:
    """``ln_post`` of every token (class token first): (B, 1 + grid^2, width)."""
    x = tower.conv1(x).flatten(2).transpose(1, 2)
    cls = tower.class_embedding + x.new_zeros(x.shape[0], 1, x.shape[-1])
    x = torch.cat([cls, x], dim=1) + tower.positional_embedding
    x = tower.transformer(tower.ln_pre(x).permute(1, 0, 2)).permute(1, 0, 2)
    return tower.ln_post(x)


def pretrain_tiny_clip(out_file: Optional[str] = None,
                       size: int = 32,
                       patch_size: int = 8,
                       width: int = 64,
                       layers: int = 4,
                       heads: int = 4,
                       iters: int = 1500,
                       batch_size: int = 64,
                       lr: float = 2e-3,
                       render_size: int = 64,
                       mean: float = 127.5,
                       std: float = 64.0,
                       seed: int = 0,
                       log_every: int = 100) -> dict:
    """Pretrain the image model and, if ``out_file`` is given, save it in OpenAI's layout.

    Images are normalised as ``(x - mean) / std`` (the synthetic configs' ``img_norm_cfg``).
    Returns the final training metrics, their ``history`` (first iteration and every
    ``log_every``), the seconds taken and the trained ``tower``.
    """
    logger = MMLogger.get_current_instance()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    tower = CLIPImageTower(size, patch_size, width, layers, heads, output_dim=width)
    pre_heads = _PretrainHeads(width)
    params = list(tower.parameters()) + list(pre_heads.parameters())
    optim = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    start = time.time()
    stats, history = {}, []
    for it in range(1, iters + 1):
        x, cls_t, off_t, occ_t = _still_batch(rng, batch_size, render_size, size, patch_size)
        tokens = _tokens(tower, (x - mean) / std)
        dense = pre_heads.dense(tokens[:, 1:])
        shape_logits, offsets = dense[..., :1 + len(SHAPES)], dense[..., 1 + len(SHAPES):]
        on_object = (cls_t > 0).unsqueeze(-1).float()
        loss_shape = F.cross_entropy(shape_logits.flatten(0, 1), cls_t.flatten())
        loss_offset = (F.smooth_l1_loss(offsets, off_t, reduction='none') * on_object).sum() \
            / on_object.sum().clamp(min=1)
        loss_occ = F.binary_cross_entropy_with_logits(pre_heads.occupancy(tokens[:, 0]), occ_t)
        loss = loss_shape + loss_offset + loss_occ
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        if it == 1 or it % log_every == 0 or it == iters:
            with torch.no_grad():
                fg = cls_t > 0
                stats = dict(
                    iter=it, loss=loss.item(),
                    object_patch_acc=(shape_logits.argmax(-1) == cls_t)[fg].float().mean().item(),
                    occupancy_acc=((pre_heads.occupancy(tokens[:, 0]) > 0) == (occ_t > 0))
                    .float().mean().item())
            history.append(stats)
            elapsed = time.time() - start
            logger.info(f'image pretraining [{it}/{iters}] loss {stats["loss"]:.3f}  '
                        f'shape of object patches {stats["object_patch_acc"]:.1%}  '
                        f'occupancy {stats["occupancy_acc"]:.1%}  '
                        f'eta {elapsed / it * (iters - it):.0f}s')
    tower.eval()
    if out_file:
        save_openai_clip(tower, out_file, jit=True, half=True)
        logger.info(f'saved the image model as an OpenAI-layout TorchScript archive: {out_file}')
    return dict(stats, history=history, seconds=time.time() - start, tower=tower)
