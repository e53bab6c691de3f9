"""tools/analysis/get_flops.py counts what a hand calculation of the AIM block gives."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'tools' / 'analysis' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def aim_vit_macs(T, H, W, p, D, L, K, num_tadapter=1):
    """Multiply-accumulates of one view through ViT_CLIP + I3DHead, by hand."""
    P = (H // p) * (W // p)
    N = P + 1
    conv = T * P * D * 3 * p * p
    spatial = T * (3 * N * D * D + 2 * N * N * D + N * D * D + 8 * N * D * D)
    temporal = N * (3 * T * D * D + 2 * T * T * D + T * D * D)
    adapters = (3 + (num_tadapter == 2)) * N * T * 2 * D * (D // 4)
    return conv + L * (spatial + temporal + adapters) + D * K


def write_config(path, **backbone):
    arch = dict(input_resolution=32, patch_size=8, width=64, layers=2, heads=4, num_frames=4)
    arch.update(backbone)
    path.write_text(
        "model = dict(type='Recognizer3D', backbone=dict(type='ViT_CLIP', pretrained=None, "
        + ', '.join(f'{k}={v!r}' for k, v in arch.items())
        + "), cls_head=dict(type='I3DHead', in_channels=64, num_classes=10))\n")
    return str(path)


@pytest.mark.parametrize('shape,tad', [(None, 1), ([8, 32, 48], 1), (None, 2)])
def test_macs_match_hand_count(tmp_path, capsys, shape, tad):
    tool = load_tool('get_flops')
    config = write_config(tmp_path / 'tiny.py', num_tadapter=tad)
    argv = [config] + (['--shape'] + [str(s) for s in shape] if shape else [])
    out = tool.main(argv)
    T, H, W = shape or (4, 32, 32)
    expected = aim_vit_macs(T, H, W, 8, 64, 2, 10, tad)
    assert out['gflops_per_view'] * 1e9 == pytest.approx(expected, rel=1e-9)
    printed = capsys.readouterr().out
    assert f"GFLOPs per view (multiply-accumulates): {expected / 1e9:.2f}" in printed


def test_b16_k400_matches_the_paper_and_prints_it(capsys):
    tool = load_tool('get_flops')
    out = tool.main([str(ROOT / 'configs/recognition/vit/vitclip_base_k400.py')])
    # AIM's vitclip_base_k400.py: 32 frames, the paper's 32x3x1 row (2428 GFLOPs, 3 views)
    assert out['gflops_per_view'] == pytest.approx(2428 / 3, rel=0.01)
    assert out['params'] == pytest.approx(97e6, rel=0.01)
    assert out['tunable'] == pytest.approx(11e6, rel=0.01)
    assert '809.3 GFLOPs per view (2428 for 3 views)' in capsys.readouterr().out


def test_bad_shape_is_explained(tmp_path):
    tool = load_tool('get_flops')
    with pytest.raises(SystemExit, match='--shape takes 2 to 5 integers'):
        tool.main([write_config(tmp_path / 'tiny.py'), '--shape', '1', '2', '3', '4', '5', '6'])
