"""AIM-Swin, the 2D Swin baseline and Video Swin: structure, shapes, the zero-init property,
checkpoint names and parameter counts."""
import copy

import pytest
import torch

from mmaction.checkpoint import load_into
from mmaction.models import Recognizer3D
from mmaction.models.backbones import (
    SwinTransformer2D,
    SwinTransformer2D_Adapter,
    SwinTransformer3D,
)

# small enough for CPU tests, big enough that stages 0 and 1 shift their windows (64 px
# frames: grids 16, 8, 4, 2 against window 4)
TINY = dict(embed_dim=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4], window_size=4,
            input_resolution=64, drop_path_rate=0.0)
SWIN_B = dict(embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32], window_size=7)


def tiny_aim(**kw):
    return SwinTransformer2D_Adapter(num_frames=8, **{**TINY, **kw}).eval()


def perturb_adapters(model):
    """What training does to the adapters: their zero-initialised layers become non-zero."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'Adapter' in name or 'temporal_position_bias_table' in name:
                p.normal_(std=0.2)


def test_aim_swin_at_initialisation_computes_the_2d_swin_frame_by_frame():
    baseline = SwinTransformer2D(**TINY).eval()
    aim = tiny_aim()
    result = aim.load_state_dict(baseline.state_dict(), strict=False)
    assert not result.unexpected_keys
    assert all('Adapter' in k or 'temporal' in k or 't_relative' in k
               for k in result.missing_keys)
    x = torch.randn(2, 3, 8, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(aim(x), baseline(x), atol=1e-6, rtol=1e-5)


def test_trained_temporal_adapters_mix_time_and_the_baseline_does_not():
    baseline = SwinTransformer2D(**TINY).eval()
    aim = tiny_aim()
    aim.load_state_dict(baseline.state_dict(), strict=False)
    perturb_adapters(aim)
    x = torch.randn(1, 3, 8, 64, 64)
    y = x.clone()
    y[:, :, 6:] = torch.randn_like(y[:, :, 6:])  # change the last temporal token only
    with torch.no_grad():
        # temporal token 0 depends on token 3 only through the temporal attention
        assert (aim(x)[:, :, 0] - aim(y)[:, :, 0]).abs().max() > 1e-3
        torch.testing.assert_close(baseline(x)[:, :, 0], baseline(y)[:, :, 0])


@pytest.mark.parametrize('frames', [8, 32])
def test_output_shapes_through_all_stages(frames):
    aim = tiny_aim()  # sized for 8 frames: 32 interpolates the temporal tables
    shapes = []
    hooks = [layer.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
             for layer in aim.layers]
    with torch.no_grad():
        out = aim(torch.randn(2, 3, frames, 64, 64))
    for h in hooks:
        h.remove()
    t = frames // 2
    # channels-last (B*T', H, W, C) after each stage, merging halves the grid
    assert shapes == [(2 * t, 8, 8, 32), (2 * t, 4, 4, 64), (2 * t, 2, 2, 128),
                      (2 * t, 2, 2, 128)]
    assert out.shape == (2, 128, t, 2, 2)


def test_other_frame_sizes_pad_windows_and_work():
    aim = tiny_aim()
    with torch.no_grad():
        out = aim(torch.randn(1, 3, 4, 72, 88))  # grids 18x22 -> 9x11 -> 5x6 -> 3x3
    assert out.shape == (1, 128, 2, 3, 3)
    assert torch.isfinite(out).all()


def test_swin_b_even_and_odd_blocks():
    with torch.device('meta'):
        aim = SwinTransformer2D_Adapter(num_frames=32, **SWIN_B)
    for s, layer in enumerate(aim.layers):
        grid = 56 // 2**s
        for b, block in enumerate(layer.blocks):
            names = {n for n, _ in block.named_parameters()}
            buffers = dict(block.named_buffers())
            assert {'S_Adapter2.D_fc2.weight', 'S_Adapter.D_fc2.weight'} <= names
            if b % 2 == 0:  # temporal attention first, no shift
                assert block.shift == (0, 0)
                assert 'T_Adapter.D_fc2.weight' in names
                assert block.attn.temporal_position_bias_table.shape == (31, 4 * 2**s)
                assert buffers['attn.t_relative_coords'].shape == (16, 16)
                assert 'attn_mask' not in buffers
            else:  # shifted windows, no temporal attention
                assert block.shift == (3, 3)
                assert not any('T_Adapter' in n or 'temporal' in n for n in names)
                if grid > 7:
                    assert buffers['attn_mask'].shape == ((grid // 7)**2, 49, 49)
                else:  # the last stage's 7x7 map is one window: nothing to shift
                    assert 'attn_mask' not in buffers


def test_swin_b_parameter_counts():
    with torch.device('meta'):
        aim = SwinTransformer2D_Adapter(num_frames=32, **SWIN_B)
        video_swin = SwinTransformer3D(patch_size=(2, 4, 4), patch_norm=True,
                                       **{**SWIN_B, 'window_size': (8, 7, 7)})
    total = sum(p.numel() for p in aim.parameters())
    adapters = sum(p.numel() for n, p in aim.named_parameters() if 'Adapter' in n)
    assert abs(total / 1e6 - 95.5) < 0.1
    assert abs(adapters / 1e6 - 8.8) < 0.1
    assert abs(sum(p.numel() for p in video_swin.parameters()) / 1e6 - 87.6) < 0.1


def reference_aim_swin_state_dict(embed_dim, depths, heads, window, frames, patch_t, img):
    """The backbone keys and shapes of a released AIM-Swin checkpoint, written from the
    format description (checkpoint_keys.md, section 3), not from our model."""
    sd = {}
    c = embed_dim
    sd['patch_embed.proj.weight'] = (c, 3, patch_t, 4, 4)
    sd['patch_embed.proj.bias'] = (c, )
    sd['patch_embed.norm.weight'] = sd['patch_embed.norm.bias'] = (c, )
    grid = img // 4
    tt = frames // patch_t
    n = window * window
    for s, (depth, h) in enumerate(zip(depths, heads)):
        for b in range(depth):
            p = f'layers.{s}.blocks.{b}.'
            for norm in ('norm1', 'norm2'):
                sd[p + norm + '.weight'] = sd[p + norm + '.bias'] = (c, )
            sd[p + 'attn.qkv.weight'], sd[p + 'attn.qkv.bias'] = (3 * c, c), (3 * c, )
            sd[p + 'attn.proj.weight'], sd[p + 'attn.proj.bias'] = (c, c), (c, )
            sd[p + 'attn.relative_position_bias_table'] = ((2 * window - 1)**2, h)
            sd[p + 'attn.relative_position_index'] = (n, n)
            sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias'] = (4 * c, c), (4 * c, )
            sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'] = (c, 4 * c), (c, )
            adapters = ['S_Adapter', 'S_Adapter2']
            if b % 2 == 0:
                adapters.append('T_Adapter')
                sd[p + 'attn.temporal_position_bias_table'] = (2 * tt - 1, h)
                sd[p + 'attn.t_relative_coords'] = (tt * tt, )  # flattened, as AIM saves it
            elif grid > window:
                sd[p + 'attn_mask'] = ((grid // window)**2, n, n)
            for a in adapters:
                sd[f'{p}{a}.D_fc1.weight'], sd[f'{p}{a}.D_fc1.bias'] = (c // 4, c), (c // 4, )
                sd[f'{p}{a}.D_fc2.weight'], sd[f'{p}{a}.D_fc2.bias'] = (c, c // 4), (c, )
        if s < len(depths) - 1:
            sd[f'layers.{s}.downsample.reduction.weight'] = (2 * c, 4 * c)
            sd[f'layers.{s}.downsample.norm.weight'] = (4 * c, )
            sd[f'layers.{s}.downsample.norm.bias'] = (4 * c, )
            c, grid = 2 * c, grid // 2
    sd['norm.weight'] = sd['norm.bias'] = (c, )
    return sd, c


def test_a_reference_named_aim_swin_checkpoint_loads_strictly(tmp_path):
    shapes, width = reference_aim_swin_state_dict(16, [2, 2, 2, 2], [1, 2, 2, 4], window=7,
                                                  frames=32, patch_t=2, img=224)
    state = {'backbone.' + k: torch.randn(v) for k, v in shapes.items()}
    for key in state:  # AIM's derived buffer: offsets i - j + T' - 1, row-major
        if key.endswith('t_relative_coords'):
            tt = 32 // 2
            state[key] = torch.tensor([i - j + tt - 1 for i in range(tt) for j in range(tt)])
    state['cls_head.fc_cls.weight'] = torch.randn(5, width)
    state['cls_head.fc_cls.bias'] = torch.randn(5)
    path = tmp_path / 'aim_swin.pth'
    torch.save({'meta': {'epoch': 30}, 'state_dict': state}, path)
    model = Recognizer3D(
        backbone=dict(type='SwinTransformer2D_Adapter', num_frames=32, embed_dim=16,
                      depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4], window_size=7),
        cls_head=dict(type='I3DHead', num_classes=5, in_channels=width))
    assert load_into(model, str(path), strict=True) == {'epoch': 30}
    own = model.state_dict()
    assert own.keys() == state.keys()
    key = 'backbone.layers.2.blocks.0.attn.temporal_position_bias_table'
    assert torch.equal(own[key], state[key])
    key = 'backbone.layers.2.blocks.0.attn.t_relative_coords'
    assert torch.equal(own[key].reshape(-1), state[key])


def _as_aim_saves_it(state):
    """Our state dict with the layout of AIM's SwinTransformer2D_Adapter: the derived
    buffer t_relative_coords flattened to (T'*T',), every other tensor unchanged."""
    return {k: v.reshape(-1).clone() if k.endswith('t_relative_coords') else v.clone()
            for k, v in state.items()}


def test_state_dict_laid_out_as_aims_code_saves_it_loads_strictly():
    trained = tiny_aim()
    perturb_adapters(trained)
    aim_state = _as_aim_saves_it(trained.state_dict())
    assert aim_state['layers.0.blocks.0.attn.t_relative_coords'].shape == (16, )  # T' = 4
    model = tiny_aim()
    model.load_state_dict(aim_state, strict=True)
    assert model.state_dict()['layers.0.blocks.0.attn.t_relative_coords'].shape == (4, 4)
    x = torch.randn(1, 3, 8, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), trained(x), rtol=0, atol=0)
    # a table that is not the offsets table is not silently replaced
    aim_state['layers.0.blocks.0.attn.t_relative_coords'] = torch.arange(16)
    with pytest.raises(RuntimeError, match='size mismatch for layers.0.blocks.0.attn.'
                                           't_relative_coords'):
        tiny_aim().load_state_dict(aim_state, strict=True)


def test_video_swin_shapes_and_names():
    model = SwinTransformer3D(patch_size=(2, 4, 4), window_size=(2, 4, 4), patch_norm=True,
                              **{k: v for k, v in TINY.items()
                                 if k not in ('input_resolution', 'window_size')}).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 8, 64, 64)).shape == (2, 128, 4, 2, 2)
    sd = model.state_dict()
    assert sd['layers.0.blocks.1.attn.relative_position_bias_table'].shape == (3 * 7 * 7, 1)
    assert sd['layers.0.blocks.1.attn.relative_position_index'].shape == (32, 32)
    assert not any('attn_mask' in k or 'Adapter' in k for k in sd)


@pytest.mark.parametrize('cls', [SwinTransformer2D_Adapter, SwinTransformer3D])
def test_bad_input_shapes_are_explained(cls):
    kw = dict(embed_dim=16, depths=[2], num_heads=[1])
    model = cls(patch_size=(2, 4, 4), **kw)
    with pytest.raises(ValueError, match=r'\(batch, 3, frames, height, width\)'):
        model(torch.randn(2, 8, 32, 32))
    with pytest.raises(ValueError, match=r'\(batch, 3, frames, height, width\)'):
        model(torch.randn(2, 1, 8, 32, 32))
    with pytest.raises(ValueError, match='frames to be a multiple of 2.*clip_len'):
        model(torch.randn(1, 3, 7, 32, 32))
    with pytest.raises(ValueError, match='height to be a multiple of 4'):
        model(torch.randn(1, 3, 8, 30, 32))


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    plain = SwinTransformer2D_Adapter(num_frames=4, **TINY)
    perturb_adapters(plain)
    cp = copy.deepcopy(plain)
    for layer in cp.layers:
        layer.with_cp = True
    x = torch.randn(1, 3, 4, 32, 32)
    grads = []
    for model in (plain, cp):
        model.train()
        model(x).square().mean().backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    for name, g in grads[0].items():
        torch.testing.assert_close(grads[1][name], g, msg=name)


def test_frozen_stages_stay_frozen_in_train_mode():
    model = SwinTransformer3D(frozen_stages=1, embed_dim=16, depths=[2, 2], num_heads=[1, 2])
    for p in model.parameters():  # e.g. a trainable-parameter rule switching all on
        p.requires_grad_(True)
    model.train()
    assert not any(p.requires_grad for p in model.patch_embed.parameters())
    assert not any(p.requires_grad for p in model.layers[0].parameters())
    assert all(p.requires_grad for p in model.layers[1].parameters())
    assert not model.layers[0].training and model.layers[1].training


def test_num_frames_that_do_not_fill_temporal_patches_are_refused():
    with pytest.raises(ValueError, match=r'num_frames=3 must be a positive multiple of the '
                       r'temporal patch size patch_size\[0\]=2.*use e.g. 2'):
        SwinTransformer2D_Adapter(num_frames=3, **TINY)
