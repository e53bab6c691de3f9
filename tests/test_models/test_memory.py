"""Training memory of ViT_CLIP (issue 23): what autograd keeps, against AIM's official module
(tools/analysis/aim_reference.py, an independent formulation), and the same numbers as the
plain autograd formulation of our own block."""
import pytest
import torch
import torch.nn.functional as F

import mmaction.models.backbones.vit_clip as vit_clip_module
import mmaction.models.common.activation as activation_module
import mmaction.models.common.linear as linear_module
from mmaction.models.backbones.vit_clip import ViT_CLIP
from mmaction.models.common.layer_norm import LayerNorm
from mmaction.models.trainable import apply_trainable_policy
from mmaction.utils.memory import SavedTensors, model_tensors
from tests.helpers import TINY
from tools.analysis.aim_reference import official_like


def aim_model(**kw):
    model = ViT_CLIP(num_frames=4, drop_path_rate=0.1, **dict(TINY, **kw)).train()
    with torch.no_grad():  # trained-looking adapters: their gradients flow everywhere
        for name, p in model.named_parameters():
            if 'Adapter' in name or 'temporal_embedding' in name:
                p.copy_(0.3 * torch.randn_like(p))
    apply_trainable_policy(model, log=False)
    return model


def step(model, clip, dtype=None):
    """Loss, output and gradients (clip and trainable parameters) of one step; bytes kept."""
    clip = clip.clone().requires_grad_(False)
    with SavedTensors(model_tensors(model)) as saved:
        with torch.autocast('cpu', dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            torch.manual_seed(1)  # the same drop-path masks for every model
            out = model(clip)
            loss = (out.float() * torch.linspace(-1, 1, out.numel()).view_as(out)).sum()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return out.detach(), grads, saved.bytes


@pytest.fixture
def plain(monkeypatch):
    """Today's formulation: every op of the block through plain autograd."""
    def plain_layer_norm(self, x):
        w, b = self.weight.float(), self.bias.float()
        return F.layer_norm(x.float(), self.normalized_shape, w, b, self.eps).to(x.dtype)

    def use():
        monkeypatch.setattr(activation_module, 'quick_gelu', activation_module.quick_gelu_forward)
        monkeypatch.setattr(linear_module, 'linear', F.linear)
        monkeypatch.setattr(vit_clip_module, 'linear', F.linear)
        monkeypatch.setattr(LayerNorm, 'forward', plain_layer_norm)
    return use


def assert_same(a, b, atol):
    out_a, grads_a, _ = a
    out_b, grads_b, _ = b
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 10
    assert (out_a - out_b).abs().max() <= atol
    for name in grads_a:
        assert (grads_a[name] - grads_b[name]).abs().max() <= atol, name


@pytest.mark.parametrize('dtype', [None, torch.bfloat16], ids=['fp32', 'bf16'])
def test_default_path_computes_todays_numbers_and_keeps_less(plain, dtype):
    """Nothing to switch on: same output and gradients as plain autograd (fp32 within 1e-6;
    under autocast the same ops in the same dtypes, so the same bits), and at most 0.85x the
    activation memory of AIM's official module; plain autograd keeps what the official one
    keeps, to within the official ``ln_post`` over every token."""
    model = aim_model()
    clip = torch.randn(2, 3, 4, 32, 32)
    ours = step(model, clip, dtype)
    official = step(official_like(model), clip, dtype)
    plain()
    today = step(model, clip, dtype)
    assert_same(ours, today, atol=1e-6 if dtype is None else 0.0)
    assert ours[2] <= 0.85 * official[2]
    assert today[2] == pytest.approx(official[2], rel=0.03)
    if dtype is None:
        assert_same(ours, official, atol=1e-5)


@pytest.mark.parametrize('dtype', [None, torch.bfloat16], ids=['fp32', 'bf16'])
def test_selective_recomputes_the_mlp_hidden_layer_same_gradients(dtype):
    """with_cp='selective': the same numbers as with_cp=False, at most 0.67x the official
    module's activation memory; with_cp=True keeps less still. (65 tokens a frame and heads
    64 wide as in ViT-B and L, 12 blocks: with fewer, attention's per-row statistics and
    the stem weigh more than at 8x224, where the ratio is 0.66.)"""
    model = aim_model(input_resolution=64, heads=1, layers=12)
    clip = torch.randn(1, 3, 4, 64, 64)
    official = step(official_like(model), clip, dtype)
    kept = {}
    results = {}
    for cp in (False, 'selective', True):
        model.with_cp = cp
        results[cp] = step(model, clip, dtype)
        kept[cp] = results[cp][2]
    assert_same(results['selective'], results[False], atol=0.0)
    assert kept['selective'] <= 0.67 * official[2]
    assert kept[True] < kept['selective'] < kept[False]


@pytest.mark.parametrize('value', ['true', 'full', 2, None])
def test_with_cp_accepts_false_true_selective_only(value):
    with pytest.raises(ValueError, match=r"with_cp must be one of False, True, 'selective'"):
        ViT_CLIP(num_frames=4, with_cp=value, **TINY)
    model = ViT_CLIP(num_frames=4, **TINY)
    for ok in (False, True, 'selective', 0, 1):
        model.with_cp = ok
    assert model.with_cp is True and not any(b.recompute_mlp for b in
                                             model.transformer.resblocks)
