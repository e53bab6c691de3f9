"""get_flops on the Swin configs: a hand count of AIM-Swin, and Video Swin's published
GFLOPs."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def get_flops():
    spec = importlib.util.spec_from_file_location('get_flops',
                                                  ROOT / 'tools/analysis/get_flops.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def aim_swin_macs(T, H, W, pt, C, depths, window, K, adapters=True):
    """Multiply-accumulates of one view through (AIM-)Swin 2D + I3DHead, by hand; every
    stage's grid a multiple of the window (no padding)."""
    t = T // pt
    h, w = H // 4, W // 4
    total = t * h * w * C * 3 * pt * 4 * 4  # patch embedding
    n = window * window
    for s, depth in enumerate(depths):
        tokens = t * h * w
        # window attention (q k^T and attn v over n keys) and MLP, per block
        block = 3 * tokens * C * C + 2 * tokens * n * C + tokens * C * C + 8 * tokens * C * C
        temporal = 3 * tokens * C * C + 2 * tokens * t * C + tokens * C * C
        adapter = tokens * 2 * C * (C // 4)
        for b in range(depth):
            total += block
            if adapters:
                total += 2 * adapter  # S_Adapter2, S_Adapter
                if b % 2 == 0:
                    total += temporal + adapter  # the same attention over time, T_Adapter
        if s < len(depths) - 1:
            total += (tokens // 4) * 4 * C * 2 * C  # patch merging
            C, h, w = 2 * C, h // 2, w // 2
    return total + C * K


@pytest.mark.parametrize('adapter', [True, False])
def test_aim_swin_macs_match_hand_count(tmp_path, adapter):
    cfg = tmp_path / 'tiny_swin.py'
    backbone = 'SwinTransformer2D_Adapter' if adapter else 'SwinTransformer2D'
    cfg.write_text(
        f"model = dict(type='Recognizer3D', backbone=dict(type='{backbone}', pretrained=None, "
        "embed_dim=16, depths=[2, 2, 4], num_heads=[1, 2, 4], window_size=4, "
        "input_resolution=64" + (', num_frames=8' if adapter else '') + "), "
        "cls_head=dict(type='I3DHead', in_channels=64, num_classes=10))\n")
    out = get_flops().main([str(cfg), '--shape', '8', '64', '64'])
    expected = aim_swin_macs(8, 64, 64, 2, 16, [2, 2, 4], 4, 10, adapters=adapter)
    assert out['gflops_per_view'] * 1e9 == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize('size,gflops', [('tiny', 88), ('small', 166), ('base', 282)])
def test_video_swin_macs_match_the_published_figures(size, gflops):
    # Video Swin (Liu et al., 2022), Kinetics-400, 32x224x224 per view
    out = get_flops().main(
        [str(ROOT / f'configs/recognition/swin/swin_{size}_patch244_window877_kinetics400_1k.py')])
    assert out['gflops_per_view'] == pytest.approx(gflops, rel=0.01)
