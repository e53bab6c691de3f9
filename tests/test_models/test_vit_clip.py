"""ViT_CLIP: the AIM block, zero-init property, attention paths, checkpointing, bad input."""
import pytest
import torch

from mmaction.models.backbones.vit_clip import ViT_CLIP
from mmaction.registry import MODELS
from tests.helpers import TINY, half_rounded, make_clip_tower, tiny_backbone, write_clip_file


def build(**kw):
    import mmaction.models  # noqa: F401  (registers)
    return MODELS.build(tiny_backbone(**kw))


def randomise_adapters(model, scale=0.5):
    """Make every AIM-only parameter non-zero, as after training."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'Adapter' in name or 'temporal_embedding' in name:
                p.copy_(scale * torch.randn_like(p))


def test_zero_init_equals_frozen_image_model_per_frame(tmp_path):
    """At initialisation AIM computes the image model's class-token feature of each frame."""
    tower = make_clip_tower()
    path = write_clip_file(tmp_path / 'clip.pt', tower)
    model = build(pretrained=path, drop_path_rate=0.3).eval()
    model.init_weights()
    reference = half_rounded(tower)  # the file stores float16, as OpenAI's do

    clip = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        out = model(clip)  # (B, D, T, 1, 1)
        expected = torch.stack(
            [reference.features(clip[:, :, t]) for t in range(4)], dim=2)  # (B, D, T)
    assert out.shape == (2, TINY['width'], 4, 1, 1)
    torch.testing.assert_close(out[..., 0, 0], expected, atol=1e-5, rtol=1e-5)


def test_trained_adapters_change_the_output():
    """The zero-init test above is not vacuous: non-zero adapters move the features."""
    model = build().eval()
    clip = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        before = model(clip)
        randomise_adapters(model)
        after = model(clip)
    assert (before - after).abs().max() > 1e-2


def test_temporal_adaptation_mixes_frames_and_space_only_does_not():
    clip = torch.randn(1, 3, 4, 32, 32)
    changed = clip.clone()
    changed[:, :, 3] += 1.0  # alter the last frame only

    full = build().eval()
    randomise_adapters(full)
    space_only = build(adaptation=('spatial', 'joint')).eval()
    randomise_adapters(space_only)
    with torch.no_grad():
        d_full = (full(clip) - full(changed))[0, :, 0].abs().max()
        d_space = (space_only(clip) - space_only(changed))[0, :, 0].abs().max()
    assert d_full > 1e-3  # frame 0 sees frame 3 through temporal attention
    assert d_space == 0  # without it frames are independent


def test_adaptation_subsets_create_only_their_parameters():
    def names(model):
        return {n.split('.')[-3] for n, _ in model.named_parameters() if 'Adapter' in n}

    assert names(build()) == {'T_Adapter', 'S_Adapter', 'MLP_Adapter'}
    assert names(build(num_tadapter=2)) == {'T_Adapter_in', 'T_Adapter', 'S_Adapter',
                                            'MLP_Adapter'}
    assert names(build(adaptation=('spatial', ))) == {'S_Adapter'}
    baseline = build(adaptation=())
    assert names(baseline) == set() and baseline.temporal_embedding is None
    with pytest.raises(ValueError, match='adaptation must be a subset'):
        build(adaptation=('temporal', 'spatio'))


def test_other_clip_length_interpolates_temporal_embedding():
    model = build(num_frames=2).eval()
    with torch.no_grad():
        model.temporal_embedding.copy_(torch.tensor([0.0, 1.0]).view(1, 2, 1).expand(1, 2, 64))
    # linear, align_corners=False: sample points at (i + 0.5) * 2 / 4 - 0.5 of the source grid
    expected = torch.tensor([0.0, 0.25, 0.75, 1.0])
    torch.testing.assert_close(model._temporal_embedding(4)[0, :, 0], expected)
    assert model._temporal_embedding(2) is model.temporal_embedding
    out = model(torch.randn(1, 3, 8, 32, 32))
    assert out.shape == (1, 64, 8, 1, 1)


def test_sdpa_equals_explicit_softmax_attention():
    sdpa = build(attn_impl='sdpa').eval()
    randomise_adapters(sdpa)
    math = build(attn_impl='math').eval()
    math.load_state_dict(sdpa.state_dict())
    clip = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(sdpa(clip), math(clip), atol=1e-5, rtol=1e-5)


def test_attention_matches_nn_multihead_attention():
    """Our batch-first SDPA attention reads in_proj/out_proj exactly as nn.MultiheadAttention."""
    from mmaction.models.backbones.vit_clip import MultiheadSelfAttention
    ours = MultiheadSelfAttention(64, 4)
    ref = torch.nn.MultiheadAttention(64, 4, batch_first=True)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 7, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x, x, x, need_weights=False)[0],
                                   atol=1e-5, rtol=1e-5)


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    plain = build(drop_path_rate=0.2)
    randomise_adapters(plain, 0.1)
    cp = build(drop_path_rate=0.2, with_cp=True)
    cp.load_state_dict(plain.state_dict())
    clip = torch.randn(2, 3, 4, 32, 32)
    grads = []
    for model in (plain, cp):
        model.train()
        torch.manual_seed(1)  # the same drop-path draws in both runs
        model(clip).square().sum().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], atol=1e-5, rtol=1e-4,
                                   msg=name)


def test_bfloat16_autocast_runs_with_float32_layernorm():
    from tests.helpers import OpDtypes
    model = build().eval()
    randomise_adapters(model, 0.1)
    clip = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        ref = model(clip)
        with torch.autocast('cpu', dtype=torch.bfloat16), OpDtypes() as ops:
            low = model(clip)
    assert torch.isfinite(low).all()
    torch.testing.assert_close(low.float(), ref, atol=0.1, rtol=0.05)
    # ln_pre, per block ln_1 (temporal), ln_1 (spatial) and ln_2, ln_post: 1 + 3 * 2 + 1
    assert ops.dtypes(('native_layer_norm', )) == [{torch.float32}] * 8
    # per block: q/k/v + out projections twice (time, space), the MLP's two layers and the
    # two layers of each of the three adapters: 12 linear layers
    assert ops.dtypes(('addmm', )) == [{torch.bfloat16}] * 24
    matmuls = ops.dtypes(OpDtypes.MATMULS)
    assert len(matmuls) == 24 + 1 + 4  # + the patch embedding, + attention twice per block
    assert all(d == {torch.bfloat16} for d in matmuls)


def test_layernorm_normalises_in_float32():
    from mmaction.models.common import LayerNorm
    ln = LayerNorm(8)
    # large offset + small spread: fp16 statistics would cancel catastrophically
    x = (torch.randn(4, 8) * 0.01 + 300).half()
    expected = torch.nn.functional.layer_norm(x.float(), (8, )).half()
    out = ln(x)
    assert out.dtype == torch.float16
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize('shape,match', [
    ((3, 4, 32, 32), r'expects clips shaped \(batch, 3, frames, height, width\).*\(3, 4, 32, 32\)'),
    ((1, 1, 4, 32, 32), r'\(1, 1, 4, 32, 32\)'),
    ((1, 3, 4, 30, 32), r'multiple of 8; got 30x32'),
])
def test_bad_input_is_a_clear_value_error(shape, match):
    with pytest.raises(ValueError, match=match):
        build()(torch.randn(shape))


def test_other_frame_size_interpolates_positional_embedding():
    model = build().eval()
    out = model(torch.randn(1, 3, 4, 48, 40))
    assert out.shape == (1, 64, 4, 1, 1)
    pos = model._positional_embedding(6, 5)
    assert pos.shape == (1 + 30, 64)
    torch.testing.assert_close(pos[0], model.positional_embedding[0])


def test_parameter_names_and_shapes_follow_released_checkpoints():
    """Key names/shapes of AIM's ViT-B/16 checkpoints (reference/checkpoint_keys.md)."""
    with torch.device('meta'):
        model = ViT_CLIP(num_frames=8)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    top = {'class_embedding': (768, ), 'positional_embedding': (197, 768),
           'temporal_embedding': (1, 8, 768), 'conv1.weight': (768, 3, 16, 16),
           'ln_pre.weight': (768, ), 'ln_pre.bias': (768, ), 'ln_post.weight': (768, ),
           'ln_post.bias': (768, )}
    block = {'attn.in_proj_weight': (2304, 768), 'attn.in_proj_bias': (2304, ),
             'attn.out_proj.weight': (768, 768), 'attn.out_proj.bias': (768, ),
             'ln_1.weight': (768, ), 'ln_1.bias': (768, ), 'ln_2.weight': (768, ),
             'ln_2.bias': (768, ), 'mlp.c_fc.weight': (3072, 768), 'mlp.c_fc.bias': (3072, ),
             'mlp.c_proj.weight': (768, 3072), 'mlp.c_proj.bias': (768, )}
    for adapter in ('S_Adapter', 'T_Adapter', 'MLP_Adapter'):
        block.update({f'{adapter}.D_fc1.weight': (192, 768), f'{adapter}.D_fc1.bias': (192, ),
                      f'{adapter}.D_fc2.weight': (768, 192), f'{adapter}.D_fc2.bias': (768, )})
    expected = dict(top)
    for i in range(12):
        expected.update({f'transformer.resblocks.{i}.{k}': v for k, v in block.items()})
    assert shapes == expected


def test_adapters_start_as_identity_or_zero():
    from mmaction.models.common import Adapter
    x = torch.randn(5, 16)
    assert torch.equal(Adapter(16, skip_connect=True)(x), x)
    assert torch.equal(Adapter(16, skip_connect=False)(x), torch.zeros_like(x))
    assert Adapter(16).D_fc1.out_features == 4  # bottleneck 0.25 * width


def test_drop_path_rates_rise_linearly():
    model = build(drop_path_rate=0.3, layers=4)
    rates = [b.drop_path.p for b in model.transformer.resblocks]
    assert rates == pytest.approx([0.0, 0.1, 0.2, 0.3])
