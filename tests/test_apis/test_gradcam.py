"""Grad-CAM (mmaction/visualization/gradcam.py, demo/demo_gradcam.py): the maps equal a
hand computation at each layout, the heat lands on the evidence where the evidence is known,
and the object masks of the synthetic benchmark are where the objects are drawn."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from einops import rearrange

from mmaction.models import Recognizer3D
from mmaction.synthetic.videos import (
    ClipSpec,
    ObjectSpec,
    continue_clip,
    object_masks,
    render_clip,
    sample_clip_spec,
)
from mmaction.visualization.gradcam import GradCAM, GradCAMError, heat_share
from tests.helpers import tiny_recognizer

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SWIN = dict(embed_dim=16, depths=[2, 2], num_heads=[1, 2], window_size=4, drop_path_rate=0.0)


def _recognizer(backbone, in_channels, num_classes=3, seed=0):
    torch.manual_seed(seed)
    model = Recognizer3D(backbone=backbone, cls_head=dict(
        type='I3DHead', in_channels=in_channels, num_classes=num_classes, dropout_ratio=0.0))
    with torch.no_grad():  # adapters start at zero; make them part of the computation
        for name, p in model.named_parameters():
            if 'Adapter' in name:
                p.normal_(std=0.2)
    return model.eval()


def _cam_by_hand(act, grad, frames, height, width):
    """Grad-CAM from a (views, C, T', H', W') activation and its gradient, with loops."""
    views, channels, tg, gh, gw = act.shape
    cam = torch.zeros(views, 1, tg, gh, gw, dtype=torch.float64)
    for v in range(views):
        for t in range(tg):
            weights = [grad[v, c, t].mean() for c in range(channels)]
            for i in range(gh):
                for j in range(gw):
                    value = sum(weights[c] * act[v, c, t, i, j] for c in range(channels))
                    cam[v, 0, t, i, j] = max(float(value), 0.0)
    cam = F.interpolate(cam, size=(frames, height, width), mode='trilinear',
                        align_corners=False)[:, 0]
    low = cam.flatten(1).min(1).values.view(-1, 1, 1, 1)
    high = cam.flatten(1).max(1).values.view(-1, 1, 1, 1)
    return ((cam - low) / (high - low)).float()


def test_vit_map_equals_the_hand_computation_on_the_patch_grid():
    """ViT_CLIP's default layer: the output of the second-last block, its patch tokens put
    back on the grid by hand (token 1 + i * W' + j is patch (i, j) of its frame)."""
    model = _recognizer(dict(type='ViT_CLIP', num_frames=4, input_resolution=32, patch_size=8,
                             width=32, layers=3, heads=4), 32)
    clips = torch.randn(2, 3, 4, 32, 48)  # 2 views; a 4 x 6 grid, not square
    result = GradCAM(model)(clips, label=1)
    assert result['layer'] == 'backbone.transformer.resblocks.1'

    bb = model.backbone  # the forward, written out, with the block output as a leaf
    x = bb.conv1(rearrange(clips, 'b c t h w -> (b t) c h w'))
    x = rearrange(x, 'bt d h w -> bt (h w) d')
    x = torch.cat([bb.class_embedding.expand(x.shape[0], 1, -1), x], 1)
    x = x + bb._positional_embedding(4, 6)
    x = (x.view(2, 4, *x.shape[1:]) + bb.temporal_embedding.unsqueeze(2)).flatten(0, 1)
    x = bb.ln_pre(x)
    for block in bb.transformer.resblocks[:2]:
        x = block(x, 4)
    leaf = x.detach().requires_grad_(True)
    out = bb.ln_post(bb.transformer.resblocks[2](leaf, 4)[:, 0])
    scores = model.cls_head(rearrange(out, '(b t) d -> b d t 1 1', b=2))
    torch.testing.assert_close(scores.detach(), torch.from_numpy(result['scores']))
    (grad, ) = torch.autograd.grad(scores[:, 1].sum(), leaf)
    act = torch.zeros(2, 32, 4, 4, 6)
    gact = torch.zeros(2, 32, 4, 4, 6)
    for v in range(2):
        for t in range(4):
            for i in range(4):
                for j in range(6):
                    act[v, :, t, i, j] = leaf[v * 4 + t, 1 + i * 6 + j].detach()
                    gact[v, :, t, i, j] = grad[v * 4 + t, 1 + i * 6 + j]
    expected = _cam_by_hand(act.double(), gact.double(), 4, 32, 48)
    np.testing.assert_allclose(result['heat'], expected.numpy(), atol=1e-4)
    assert result['heat'].shape == (2, 4, 32, 48)


@pytest.mark.parametrize('backbone', [
    dict(type='SwinTransformer3D', patch_size=(2, 4, 4), **dict(SWIN, window_size=(2, 4, 4))),
    dict(type='SwinTransformer2D_Adapter', num_frames=4, patch_size=(2, 4, 4),
         input_resolution=32, **SWIN),
    dict(type='SwinTransformer2D', patch_size=4, input_resolution=32, **SWIN),
], ids=['swin3d', 'aim_swin', 'swin2d'])
def test_swin_map_equals_the_hand_computation_on_the_final_feature_map(backbone):
    """Swin's default layer is the final norm (channels last); its output, channels first,
    is what the backbone returns, so the hand computation starts from the backbone's output."""
    model = _recognizer(backbone, 32)
    clips = torch.randn(2, 3, 4, 32, 32)
    result = GradCAM(model)(clips)
    assert result['layer'] == 'backbone.norm'
    feats = model.backbone(clips).detach().requires_grad_(True)  # (views, C, T', H', W')
    scores = model.cls_head(feats)
    label = int(scores.softmax(-1).mean(0).argmax())
    assert result['label'] == label
    (grad, ) = torch.autograd.grad(scores[:, label].sum(), feats)
    expected = _cam_by_hand(feats.detach().double(), grad.double(), 4, 32, 32)
    np.testing.assert_allclose(result['heat'], expected.numpy(), atol=1e-4)


def _object_on_grey(label, num_frames=4, size=64):
    """A clip of one object on a uniform grey background (frame 0 at a patch's centre)."""
    spec = ClipSpec(label=label, size=size, num_frames=num_frames,
                    background=((128, 128, 128), (128, 128, 128), 0.0),
                    objects=[ObjectSpec('circle', (250, 40, 40), 3.5, (12.0, 20.0),
                                        (3.0 if label == 0 else -3.0, 0.0))])
    return spec, render_clip(spec)


def test_heat_lies_on_the_object_when_only_the_object_has_features():
    """A constructed case: with the positional and temporal embeddings at zero, a background
    of exactly the normalisation mean embeds to zero tokens, which the (bias-free) patch
    embedding and LayerNorm keep at zero; only the object's patches carry anything at the
    target layer, so all the heat must be there, frame by frame as the object moves."""
    model = _recognizer(dict(type='ViT_CLIP', num_frames=4, input_resolution=64, patch_size=8,
                             width=32, layers=2, heads=4), 32, num_classes=2, seed=3)
    with torch.no_grad():
        model.backbone.positional_embedding.zero_()
        model.backbone.temporal_embedding.zero_()
    cam = GradCAM(model, target_layer='backbone/ln_pre')  # AIM's slash form
    spec, frames = _object_on_grey(0)
    clip = (torch.from_numpy(frames).permute(3, 0, 1, 2).float()[None] - 128) / 64
    masks = object_masks(spec)
    results = [cam(clip, label=k) for k in range(2)]
    result = max(results, key=lambda r: r['heat'].sum())  # ReLU may zero one class's map
    inside, area = heat_share(result['heat'][0], masks)
    assert area < 0.02
    print(f"heat inside {inside:.3f}, mask area {area:.4f}, ratio {inside / area:.1f}")
    assert inside / area > 10, (inside, area)
    # frame by frame: the hottest pixel is within a patch of the object's centre
    for t in range(4):
        y, x = np.unravel_index(result['heat'][0, t].argmax(), (64, 64))
        cx = 12.0 + 3.0 * t
        assert abs(x - cx) <= 8 and abs(y - 20.0) <= 8, (t, x, y)


def test_unsupported_models_and_layers_are_refused_with_the_choices():
    model = _recognizer(tiny_recognizer()['backbone'], 64)
    with pytest.raises(GradCAMError, match="'backbone.nope' is not a layer of the backbone"):
        GradCAM(model, 'backbone.nope')
    # the last block's patch tokens do not reach the class token the head reads
    with pytest.raises(GradCAMError, match='gradient is zero.*earlier layer'):
        GradCAM(model, 'backbone.transformer.resblocks.1')(torch.randn(1, 3, 4, 32, 32))
    model.backbone = torch.nn.Conv3d(3, 64, 1)
    with pytest.raises(GradCAMError, match="supports the backbones .*this model has Conv3d"):
        GradCAM(model)


def test_object_masks_are_where_the_objects_are_drawn():
    """Independent of the drawing code: the mask against where the rendered clip differs
    from the same clip without objects (anti-aliased edge pixels may go either way)."""
    rng = np.random.default_rng(4)
    spec = sample_clip_spec(rng, 1, size=64, num_frames=6, num_lanes=2)
    spec = continue_clip(spec, 2, 6)  # and the continuation's positions
    masks = object_masks(spec)
    empty = ClipSpec(spec.label, spec.size, spec.num_frames, spec.background, [])
    changed = np.abs(render_clip(spec).astype(int) - render_clip(empty).astype(int)).sum(-1)
    drawn = changed > 0
    assert masks.shape == (6, 64, 64) and masks.any(axis=(1, 2)).all()
    assert (masks & ~drawn).sum() == 0  # nothing masked where nothing was drawn
    assert (masks & drawn).sum() / drawn.sum() > 0.8  # the edges' faint pixels are left out
    strong = changed > 150  # clearly object pixels
    assert masks[strong].mean() > 0.97


def _demo():
    spec = importlib.util.spec_from_file_location(
        'demo_gradcam', osp.join(ROOT, 'demo', 'demo_gradcam.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_writes_the_blended_views_side_by_side(tiny_run, tmp_path):
    from PIL import Image

    from mmaction.apis import gradcam_video, init_recognizer
    from mmaction.visualization.video import blend_heat
    video = tiny_run['records'][1]['filename']
    out = tmp_path / 'cam.gif'
    options = [f'{k}={v}' for k, v in tiny_run['options'].items()]
    result = _demo().main([video, tiny_run['config'], tiny_run['checkpoint'], '--out', str(out),
                           '--label', '1', '--alpha', '1', '--cfg-options', *options])
    model = init_recognizer(tiny_run['config'], tiny_run['checkpoint'],
                            cfg_options=tiny_run['options'])
    again = gradcam_video(model, video, label=1)
    np.testing.assert_array_equal(result['heat'], again['heat'])
    assert result['frames'].shape == (3, 8, 32, 32, 3)  # 3 views of 8 frames, 32 x 32
    # the test pipeline's views: UniformSampleFrames(8, 3) over the 12 frames
    assert result['frame_inds'].shape == (3, 8)
    with Image.open(out) as gif:
        assert gif.n_frames == 8 and gif.size == (3 * 32, 32)
        gif.seek(2)
        shown = np.asarray(gif.convert('RGB')).astype(int)
    # alpha 1: the colour map alone, view after view (within the GIF palette's rounding)
    expected = np.concatenate(list(blend_heat(result['frames'], result['heat'], 1.0)[:, 2]),
                              axis=1).astype(int)
    assert np.abs(shown - expected).mean() < 6
