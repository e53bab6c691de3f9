"""tools/deployment/pytorch2onnx.py exports Recognizer3D with each backbone: onnxruntime's
scores equal the model's test scores (``predict``, computed here) within 1e-4, for the batch
size of --shape and, with --dynamic-batch, another one."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch

from mmaction.apis import init_recognizer
from mmaction.engine.launch import run_tool

onnx = pytest.importorskip('onnx')
onnxruntime = pytest.importorskip('onnxruntime')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# one stage of 8x8 tokens against window 4: the odd block shifts (masked windows)
SWIN = dict(embed_dim=16, depths=[2], num_heads=[1], window_size=4, drop_path_rate=0.1)
#: tiny versions of every backbone: (config, output width); clips 4 x 32 x 32
BACKBONES = {
    'ViT_CLIP': (dict(input_resolution=32, patch_size=8, width=32, layers=1, heads=2,
                      num_frames=4, num_tadapter=2, drop_path_rate=0.1), 32),
    'ViT_ImageNet': (dict(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2,
                          num_frames=4, drop_path_rate=0.1), 32),
    'TimeSformer': (dict(input_resolution=32, patch_size=8, width=32, layers=1, heads=2,
                         num_frames=4, drop_path_rate=0.1), 32),
    'SwinTransformer2D_Adapter': (dict(num_frames=4, input_resolution=32, **SWIN), 16),
    'SwinTransformer2D': (dict(input_resolution=32, **SWIN), 16),
    # two stages: patch merging too; with_cp=True must not reach the graph
    'SwinTransformer3D': (dict(patch_size=(2, 4, 4), patch_norm=True, with_cp=True,
                               **{**SWIN, 'depths': [2, 1], 'num_heads': [1, 2],
                                  'window_size': (2, 4, 4)}), 32),
}
SHAPE = (1, 3, 4, 32, 32)
# Each export costs 5-10 s of CPU (torch.export, decompositions, translation): the code
# paths these three share with ViT_CLIP and AIM-Swin run in CI, all six with -m slow.
SHARED_PATHS = ('ViT_ImageNet', 'TimeSformer', 'SwinTransformer2D')


def _tool():
    path = osp.join(ROOT, 'tools', 'deployment', 'pytorch2onnx.py')
    spec = importlib.util.spec_from_file_location('pytorch2onnx', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


def _model_files(tmp_path, name, average_clips='prob'):
    """A config of the tiny recognizer and a checkpoint of it with every weight non-zero
    (zero-initialised adapters would hide what they compute)."""
    backbone, width = BACKBONES[name]
    model = dict(type='Recognizer3D', backbone=dict(type=name, **backbone),
                 cls_head=dict(type='I3DHead', num_classes=5, in_channels=width,
                               dropout_ratio=0.5),
                 test_cfg=dict(average_clips=average_clips))
    config = tmp_path / f'{name}.py'
    config.write_text(f'model = {model!r}\n')
    net = init_recognizer(str(config))
    torch.manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    checkpoint = tmp_path / f'{name}.pth'
    torch.save({'state_dict': net.state_dict()}, checkpoint)
    return str(config), str(checkpoint)


def _test_scores(config, checkpoint, clips, options=None):
    """What tools/test.py computes for normalised clips: Recognizer3D.predict's scores."""
    model = init_recognizer(config, checkpoint, cfg_options=options)
    with torch.no_grad():
        return torch.stack([s.pred_score for s in model.predict(clips)]).numpy()


def _onnx_scores(path, clips):
    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.run(None, {'clips': clips.numpy()})[0]


@pytest.mark.parametrize('name', [pytest.param(n, marks=pytest.mark.slow)
                                  if n in SHARED_PATHS else n for n in BACKBONES])
def test_onnx_scores_equal_the_test_scores(name, tmp_path, capsys):
    """ViT_CLIP: views kept apart (average_clips none, (N, V, C, T, H, W) input);
    SwinTransformer3D: a fixed batch; the others: softmax scores with a dynamic batch."""
    views, dynamic = name == 'ViT_CLIP', name != 'SwinTransformer3D'
    config, checkpoint = _model_files(tmp_path, name)
    out = str(tmp_path / f'{name}.onnx')
    shape = SHAPE[:1] + (2, ) + SHAPE[1:] if views else SHAPE
    argv = [config, checkpoint, '--shape', *map(str, shape), '--verify', '--output-file', out]
    argv += ['--average-clips', 'none'] * views + ['--dynamic-batch'] * dynamic
    assert run_tool(TOOL.main, argv) == 0, capsys.readouterr().err
    assert 'onnxruntime and torch agree within 0.0001 (batch 1: ' in capsys.readouterr().out
    batch = onnx.load(out).graph.input[0].type.tensor_type.shape.dim[0]
    assert bool(batch.dim_param) == dynamic and batch.dim_value == (0 if dynamic else 1)
    options = {'model.test_cfg.average_clips': None} if views else None
    torch.manual_seed(1)
    for n in (1, 2) if dynamic else (1, ):
        clips = torch.randn((n, ) + shape[1:])
        got, want = _onnx_scores(out, clips), _test_scores(config, checkpoint, clips, options)
        assert got.shape == want.shape == ((n, 2, 5) if views else (n, 5))
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
        if not views:  # average_clips='prob'
            np.testing.assert_allclose(got.sum(1), 1, atol=1e-5)
    if not dynamic:
        with pytest.raises(Exception, match='(?i)dimension|shape'):
            _onnx_scores(out, torch.randn((2, ) + shape[1:]))


def test_bad_shapes_are_one_message_and_exit_2(tmp_path, capsys):
    config, checkpoint = _model_files(tmp_path, 'ViT_CLIP')
    for shape, message in (([1, 3, 4, 32], 'must be N C T H W'),
                           ([1, 1, 4, 32, 32], 'must be 3 (RGB)'),
                           ([1, 3, 4, 30, 32], 'multiple of 8')):
        argv = [config, checkpoint, '--shape', *map(str, shape), '--output-file',
                str(tmp_path / 'x.onnx')]
        assert run_tool(TOOL.main, argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 2 and err[0].startswith('error: ') and message in err[0], err
    assert not (tmp_path / 'x.onnx').exists()
