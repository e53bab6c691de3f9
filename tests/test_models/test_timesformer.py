"""TimeSformer, the divided space-time baseline: AIM's names, temporal attention started from
CLIP's spatial one, what AIM's rule trains."""
import pytest
import torch

from mmaction.checkpoint.clip import load_clip_into, timesformer_from_clip
from mmaction.models.backbones import TimeSformer
from tests.helpers import TINY, half_rounded, make_clip_tower, write_clip_file

D = TINY['width']


def build(**kw):
    return TimeSformer(num_frames=4, **{**TINY, **kw})


def test_parameter_names_and_shapes_are_aims():
    shapes = {k: tuple(v.shape) for k, v in build().state_dict().items()}
    grid = (TINY['input_resolution'] // TINY['patch_size'])**2
    want = {'conv1.weight': (D, 3, 8, 8), 'class_embedding': (D, ),
            'positional_embedding': (grid + 1, D), 'temporal_embedding': (1, 4, D),
            'ln_pre.weight': (D, ), 'ln_pre.bias': (D, ), 'ln_post.weight': (D, ),
            'ln_post.bias': (D, )}
    for i in range(TINY['layers']):
        b = f'transformer.resblocks.{i}.'
        for attn in ('attn', 't_attn'):
            want.update({f'{b}{attn}.in_proj_weight': (3 * D, D),
                         f'{b}{attn}.in_proj_bias': (3 * D, ),
                         f'{b}{attn}.out_proj.weight': (D, D), f'{b}{attn}.out_proj.bias': (D, )})
        for norm in ('ln_1', 'ln_2', 't_norm'):
            want.update({f'{b}{norm}.weight': (D, ), f'{b}{norm}.bias': (D, )})
        want.update({b + 'mlp.c_fc.weight': (4 * D, D), b + 'mlp.c_fc.bias': (4 * D, ),
                     b + 'mlp.c_proj.weight': (D, 4 * D), b + 'mlp.c_proj.bias': (D, ),
                     b + 'T_Adapter.weight': (D, D), b + 'T_Adapter.bias': (D, )})
    assert shapes == want
    assert 'temporal_embedding' not in build(attn_type='none').state_dict()


@pytest.fixture(scope='module')
def clip_file(tmp_path_factory):
    tower = make_clip_tower(seed=5)
    return tower, write_clip_file(tmp_path_factory.mktemp('clip') / 'clip.pt', tower)


def test_temporal_attention_and_norm_start_as_the_blocks_spatial_ones(clip_file):
    _, path = clip_file
    model = build(pretrained=path)
    missing = load_clip_into(model, path, derive=timesformer_from_clip)
    assert missing == sorted(n for n in model.state_dict()
                             if 'T_Adapter' in n or n == 'temporal_embedding')
    sd = model.state_dict()
    for i in range(TINY['layers']):
        b = f'transformer.resblocks.{i}.'
        for name in ('in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'):
            assert torch.equal(sd[f'{b}t_attn.{name}'], sd[f'{b}attn.{name}'])
        assert torch.equal(sd[f'{b}t_norm.weight'], sd[f'{b}ln_1.weight'])
    # AIM initialises T_Adapter like every Linear (truncated normal), not at zero
    assert sd['transformer.resblocks.0.T_Adapter.weight'].abs().sum() > 0


def test_without_its_temporal_branch_it_is_clip_frame_by_frame(clip_file):
    tower, path = clip_file
    model = build(pretrained=path).eval()
    model.init_weights()
    clip = torch.randn(2, 3, 4, 32, 32)
    changed = clip.clone()
    changed[:, :, 3] += 1.0
    with torch.no_grad():
        # the temporal branch mixes frames: frame 0 sees the change to frame 3
        assert (model(clip)[:, :, 0] - model(changed)[:, :, 0]).abs().max() > 1e-4
        for block in model.transformer.resblocks:
            block.T_Adapter.weight.zero_()
            block.T_Adapter.bias.zero_()
        out = model(clip)[..., 0, 0]
        reference = half_rounded(tower)
        for t in range(4):
            torch.testing.assert_close(out[:, :, t], reference.features(clip[:, :, t]),
                                       atol=1e-5, rtol=1e-5)


def test_aims_rule_trains_the_linear_after_temporal_attention_not_the_attention():
    from mmengine.config import Config

    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile('configs/recognition/vit/timesformer_k400.py')
    cfg.model.backbone.pretrained = None
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert 'backbone.transformer.resblocks.0.T_Adapter.weight' in trained
    assert 'backbone.transformer.resblocks.0.t_attn.in_proj_weight' not in trained
    assert {n.split('.')[1] for n in trained if n.startswith('backbone.')} == {
        'temporal_embedding', 'ln_post', 'transformer'}
    # 12 T_Adapters (768 x 768 + 768), temporal embedding (8 x 768), ln_post, 400-way head
    assert model.num_trainable == 12 * (768 * 768 + 768) + 8 * 768 + 2 * 768 + 400 * 769
