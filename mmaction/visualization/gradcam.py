"""Grad-CAM over video clips (Selvaraju et al., 2017) for our backbones.

For a target layer with activations ``A`` (channels ``c`` at temporal position ``t`` and
spatial position ``(i, j)``) and the gradient ``G`` of the chosen class's score (before the
softmax, summed over the views) with respect to ``A``:

    weight[c, t] = mean over (i, j) of G[c, t, i, j]       (one weighting per time step,
    map[t, i, j] = relu(sum over c of weight[c, t] * A[c, t, i, j])   as SlowFast does)

The map is upsampled (trilinear) to the clip's frames and pixels and scaled to [0, 1] per
view. A forward hook on the layer captures ``A``; ``torch.autograd.grad`` gives ``G``; the
model is not changed and no parameter gradient is accumulated.

Layer outputs are read as feature maps by their layout:

* ViT_CLIP, ViT_ImageNet, TimeSformer: tokens ``(B*T, [class token +] H'*W', D)``, the frames
  of a clip contiguous; the class token is left out and the patch tokens are put back on
  their (H', W') grid (row-major, as the patch embedding flattens them). The default layer is
  the input of the last block (the output of the one before): the head reads only the class
  token after the last block, so the last block's own patch outputs get no gradient.
* SwinTransformer3D: channels-last stage outputs ``(B, T', H', W', C)``;
  SwinTransformer2D(_Adapter): ``(B*T', H', W', C)``. ``backbone`` itself and
  ``backbone.patch_embed`` give channels-first maps. The default layer is the final ``norm``.
"""
import math
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmaction.utils.cli import user_error

TOKEN_BACKBONES = ('ViT_CLIP', 'ViT_ImageNet', 'TimeSformer')
SWIN_BACKBONES = ('SwinTransformer3D', 'SwinTransformer2D', 'SwinTransformer2D_Adapter')
#: Swin layers whose outputs are channels-first; all others are channels-last
CHANNELS_FIRST = ('backbone', 'backbone.patch_embed')


@user_error
class GradCAMError(ValueError):
    """A model or layer Grad-CAM cannot use; the message says which ones it can."""


def _blocks(backbone: nn.Module) -> Tuple[str, nn.ModuleList]:
    if hasattr(backbone, 'transformer'):
        return 'backbone.transformer.resblocks', backbone.transformer.resblocks
    return 'backbone.blocks', backbone.blocks


def default_target_layer(model: nn.Module) -> str:
    """The layer Grad-CAM uses for ``model``'s backbone unless told otherwise."""
    kind = type(model.backbone).__name__
    if kind in TOKEN_BACKBONES:
        prefix, blocks = _blocks(model.backbone)
        if len(blocks) < 2:
            raise GradCAMError(f'{kind} with one block: the head reads only its class token, '
                               'so give --target-layer (e.g. backbone.conv1 or '
                               'backbone.patch_embed)')
        return f'{prefix}.{len(blocks) - 2}'
    if kind in SWIN_BACKBONES:
        return 'backbone.norm'
    raise GradCAMError(f'Grad-CAM supports the backbones {TOKEN_BACKBONES + SWIN_BACKBONES}; '
                       f'this model has {kind}.')


def _token_grid(num_tokens: int, height: int, width: int) -> Tuple[int, int, int]:
    """``(leading tokens, H', W')``: a class token (if any) followed by an H' x W' grid with
    the frame's aspect ratio."""
    for lead in (1, 0):
        n = num_tokens - lead
        gh = round(math.sqrt(n * height / width)) if n > 0 else 0
        if gh > 0 and n % gh == 0 and height % gh == 0 and width % (n // gh) == 0 \
                and height // gh == width // (n // gh):
            return lead, gh, n // gh
    raise GradCAMError(f'{num_tokens} tokens are not a grid of patches of a {height}x{width} '
                       'frame (with or without a class token)')


def to_feature_map(x: torch.Tensor, layout: str, clips: int, frames: int,
                   height: int, width: int) -> torch.Tensor:
    """A layer output as (clips, C, T', H', W'). ``layout``: ``'tokens'`` (B*T, N, D),
    ``'channels_last'`` ((B, T', H', W', C) or (B*T', H', W', C)) or ``'channels_first'``
    ((B, C, T', H', W') or (B*T', C, H', W'))."""
    if layout == 'tokens':
        if x.ndim != 3 or x.shape[0] != clips * frames:
            raise GradCAMError(f'expected tokens shaped ({clips}*{frames} frames, tokens, '
                               f'width); the layer gives {tuple(x.shape)}. Choose a block, '
                               'not a module inside one (the temporal branch arranges tokens '
                               'by position).')
        lead, gh, gw = _token_grid(x.shape[1], height, width)
        x = x[:, lead:].reshape(clips, frames, gh, gw, x.shape[-1])
        return x.permute(0, 4, 1, 2, 3)
    if x.ndim == 4:  # frames (or temporal tokens) of each clip stacked in the batch
        if x.shape[0] % clips:
            raise GradCAMError(f'a 4-D output {tuple(x.shape)} does not split into {clips} '
                               'clips')
        x = x.reshape(clips, x.shape[0] // clips, *x.shape[1:])
        x = x.permute(0, 4, 1, 2, 3) if layout == 'channels_last' else x.permute(0, 2, 1, 3, 4)
        return x
    if x.ndim == 5 and x.shape[0] == clips:
        return x.permute(0, 4, 1, 2, 3) if layout == 'channels_last' else x
    raise GradCAMError(f'cannot read a layer output of shape {tuple(x.shape)} as a feature '
                       f'map of {clips} clips')


class GradCAM:
    """Grad-CAM of a ``Recognizer3D`` at one layer of its backbone.

    Args:
        model: the recognizer (``init_recognizer``); it is only read.
        target_layer: a module name as ``model.named_modules()`` gives it
            (``backbone.transformer.resblocks.10``, ``backbone.layers.3``); AIM's
            slash-separated form (``backbone/layers/3``) works too. Default:
            :func:`default_target_layer`.
    """

    def __init__(self, model: nn.Module, target_layer: Optional[str] = None):
        self.model = model
        kind = type(model.backbone).__name__
        name = default_target_layer(model) if target_layer is None else \
            target_layer.replace('/', '.')
        if kind in TOKEN_BACKBONES:
            self.layout = None  # decided by the output: tokens, or a conv's map
        elif kind in SWIN_BACKBONES:
            self.layout = 'channels_first' if name in CHANNELS_FIRST else 'channels_last'
        else:
            raise GradCAMError(f'Grad-CAM supports the backbones '
                               f'{TOKEN_BACKBONES + SWIN_BACKBONES}; this model has {kind}.')
        modules = dict(model.named_modules())
        if name not in modules or not (name == 'backbone' or name.startswith('backbone.')):
            blocks = [n for n in modules if n.startswith('backbone.') and n.count('.') <= 3
                      and n.rsplit('.', 1)[-1].isdigit()]
            raise GradCAMError(f'--target-layer {target_layer!r} is not a layer of the '
                               f'backbone; e.g. {", ".join(blocks[-3:])} '
                               '(names as model.named_modules() gives them)')
        self.name, self.layer = name, modules[name]

    def __call__(self, clips: torch.Tensor, label: Optional[int] = None) -> Dict:
        """Grad-CAM of ``clips`` (views, C, T, H, W), normalised as the model takes them.

        ``label``: the class to explain (default: the best class of the views' mean softmax).
        Returns ``heat`` ((views, T, H, W) float32 numpy in [0, 1]), ``label``, ``scores``
        (the views' class scores before the softmax, (views, classes)) and ``layer``.
        """
        if clips.ndim != 5:
            raise ValueError(f'clips must be (views, C, T, H, W); got {tuple(clips.shape)}')
        views, _, frames, height, width = clips.shape
        captured = []

        def keep(module, args, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            if not captured:  # the first call (a recomputation would call it again)
                captured.append(out)

        handle = self.layer.register_forward_hook(keep)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.enable_grad():
                # an input that needs a gradient: every layer's output is then part of the graph,
                # frozen weights or not
                x = clips.detach().clone().requires_grad_(True)
                scores = self.model.cls_head(self.model.backbone(x))
                if not captured:
                    raise GradCAMError(f'layer {self.name} was not run by the forward pass')
                num_classes = scores.shape[-1]
                if label is None:
                    label = int(scores.detach().float().softmax(-1).mean(0).argmax())
                if not 0 <= label < num_classes:
                    raise GradCAMError(f'--label {label} is not a class of this model '
                                       f'(0 .. {num_classes - 1})')
                (grad, ) = torch.autograd.grad(scores[:, label].sum(), captured[0])
        finally:
            handle.remove()
            self.model.train(was_training)
        act = captured[0].detach().float()
        grad = grad.float()
        layout = self.layout or ('tokens' if act.ndim == 3 else 'channels_first')
        act = to_feature_map(act, layout, views, frames, height, width)
        grad = to_feature_map(grad, layout, views, frames, height, width)
        if not grad.abs().amax():
            raise GradCAMError(f'the score does not depend on {self.name} (its gradient is '
                               'zero); choose an earlier layer')
        weights = grad.mean(dim=(3, 4), keepdim=True)  # (views, C, T', 1, 1)
        cam = F.relu((weights * act).sum(1, keepdim=True))  # (views, 1, T', H', W')
        cam = F.interpolate(cam, size=(frames, height, width), mode='trilinear',
                            align_corners=False)[:, 0]
        low = cam.flatten(1).amin(1).view(-1, 1, 1, 1)
        high = cam.flatten(1).amax(1).view(-1, 1, 1, 1)
        heat = torch.where(high > low, (cam - low) / (high - low).clamp(min=1e-12),
                           torch.zeros_like(cam))
        return dict(heat=heat.cpu().numpy().astype(np.float32), label=int(label),
                    scores=scores.detach().float().cpu().numpy(), layer=self.name)


def heat_share(heat: np.ndarray, mask: np.ndarray) -> Tuple[float, float]:
    """``(share of the heat inside mask, share of the pixels inside mask)``: how much more
    the map concentrates on the mask than a uniform map would (their ratio)."""
    if heat.shape != mask.shape:
        raise ValueError(f'heat {heat.shape} and mask {mask.shape} differ in shape')
    total = float(heat.sum())
    if total <= 0:
        raise ValueError('the heat map is zero everywhere')
    return float(heat[mask].sum()) / total, float(mask.mean())


def masks_on_input(masks: np.ndarray, frame_inds: np.ndarray, size: Tuple[int, int]
                   ) -> np.ndarray:
    """Per-frame masks of a video ((frames, H, W) bool) on the model's input views: the
    frames of ``frame_inds`` ((views, T)), resized to ``size`` (W, H) by area and kept where
    at least half covered. Right for pipelines that only resize (no crop, no flip), as the
    synthetic benchmark's; returns (views, T, h, w) bool."""
    import cv2
    picked = masks[np.asarray(frame_inds) % len(masks)].astype(np.float32)
    out = np.empty(picked.shape[:2] + (size[1], size[0]), bool)
    for v in range(picked.shape[0]):
        for t in range(picked.shape[1]):
            out[v, t] = cv2.resize(picked[v, t], size, interpolation=cv2.INTER_AREA) >= 0.5
    return out
