"""What only a CUDA device can show (marker ``gpu``; skipped without CUDA; out of CI).
``tools/analysis/gpu_check.py`` runs these first and puts their outcomes in its report."""
import copy
import os
import pickle
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmaction.engine.config.dialect import translate_optimizer
from mmaction.engine.optim import resolve_precision
from mmaction.models.backbones.vit_clip import MultiheadSelfAttention
from mmaction.models.data_preprocessor import ActionDataPreprocessor
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from tests.test_engine.engine_helpers import make_batch, tiny_model_cfg
from tests.test_engine.test_train_e2e import (  # noqa: F401
    ROOT,
    _dist,
    _env,
    _scalars,
    setup,  # setup: the videos and config fixture
)

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')]


def _wrapper(model, **optimizer_config):
    from mmengine.optim import build_optim_wrapper
    cfg = translate_optimizer(dict(type='AdamW', lr=1e-3), dict(optimizer_config), None)
    wrapper = build_optim_wrapper(model, resolve_precision(cfg, cuda=True))
    wrapper.initialize_count_status(model, 0, 100)
    return wrapper


def test_fp16_loss_scaling_skips_an_overflowing_step_and_halves_the_scale():
    from mmaction.engine.hooks import NonFiniteLossHook
    model = MODELS.build(tiny_model_cfg()).cuda()
    wrapper = _wrapper(model, use_fp16=True)
    scaler = wrapper.loss_scaler
    batch = model.data_preprocessor(make_batch(2), training=True)
    model.train_step(make_batch(2), wrapper)  # a normal step
    scale = scaler.get_scale()
    before = copy.deepcopy(model.state_dict())
    with wrapper.optim_context(model):
        loss = model(**batch, mode='loss')['loss_cls']
    wrapper.update_params(loss * float('inf'))  # gradients overflow
    assert scaler.get_scale() == scale / 2
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), f'{key} changed in a skipped step'
    # the hook logs it (and does not stop the run) from the scaler's device-side scale
    assert isinstance(scaler._scale, torch.Tensor) and scaler._scale.is_cuda
    assert NonFiniteLossHook._scale_now(scaler).item() == scale / 2


def test_bf16_autocast_runs_matmuls_in_bf16_and_layer_norms_in_float32(monkeypatch):
    import torch.nn.functional as F
    model = MODELS.build(tiny_model_cfg()).cuda()
    wrapper = resolve_precision(
        translate_optimizer(dict(type='AdamW', lr=1e-3), {}, None), amp='bf16', cuda=True)
    assert wrapper['type'] == 'AutocastOptimWrapper'
    from mmengine.optim import build_optim_wrapper
    wrapper = build_optim_wrapper(model, wrapper)
    wrapper.initialize_count_status(model, 0, 100)
    norms, linears = set(), set()
    layer_norm = F.layer_norm
    monkeypatch.setattr(F, 'layer_norm', lambda x, *a, **k: norms.add(x.dtype) or
                        layer_norm(x, *a, **k))
    for block in model.backbone.transformer.resblocks:
        block.attn.out_proj.register_forward_hook(lambda m, i, o: linears.add(o.dtype))
        block.mlp.c_fc.register_forward_hook(lambda m, i, o: linears.add(o.dtype))
    losses = [float(model.train_step(make_batch(4, seed=0), wrapper)['loss'].detach())
              for _ in range(20)]
    assert norms == {torch.float32} and linears == {torch.bfloat16}
    assert losses[-1] < losses[0]


@pytest.mark.parametrize('backend', ['FLASH_ATTENTION', 'EFFICIENT_ATTENTION'])
@pytest.mark.parametrize('tokens', [197, 8])  # a frame's tokens (ViT-B/16), a clip's frames
def test_sdpa_runs_our_shapes_on_the_fused_kernels_as_the_math_kernel_does(backend, tokens):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    torch.manual_seed(0)
    attn = MultiheadSelfAttention(768, 12).cuda()
    x = torch.randn(16, tokens, 768, device='cuda', requires_grad=True)
    with torch.autocast('cuda', dtype=torch.bfloat16):
        with sdpa_kernel(getattr(SDPBackend, backend)):  # raises if it cannot take them
            fused = attn(x)
        fused_grad, = torch.autograd.grad(fused.float().sum(), x)
        attn.impl = 'math'
        reference = attn(x)
        reference_grad, = torch.autograd.grad(reference.float().sum(), x)
    torch.testing.assert_close(fused.float(), reference.float(), atol=3e-2, rtol=3e-2)
    torch.testing.assert_close(fused_grad, reference_grad, atol=5e-2, rtol=5e-2)


def test_with_cp_gives_the_same_gradients():
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        model = MODELS.build(tiny_model_cfg(with_cp=with_cp)).cuda()
        batch = model.data_preprocessor(make_batch(2), training=True)
        model(**batch, mode='loss')['loss_cls'].backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()
                      if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], rtol=1e-4, atol=1e-6)


def test_the_data_preprocessor_gets_uint8_and_normalises_on_the_device():
    mean, std = [122.769, 116.74, 104.04], [68.493, 66.63, 70.321]
    pre = ActionDataPreprocessor(mean=mean, std=std).cuda()
    clip = torch.randint(0, 256, (1, 3, 2, 8, 8), dtype=torch.uint8).pin_memory()
    out = pre(dict(inputs=[clip], data_samples=[ActionDataSample().set_gt_label(0)]))
    inputs = out['inputs']
    assert clip.dtype == torch.uint8 and inputs.is_cuda and inputs.dtype == torch.float32
    expected = (clip.float() - torch.tensor(mean).view(1, 3, 1, 1, 1)) / \
        torch.tensor(std).view(1, 3, 1, 1, 1)
    torch.testing.assert_close(inputs[0].cpu(), expected, rtol=1e-6, atol=1e-5)


def test_one_process_nccl_dist_train_validates_and_tests(setup):  # noqa: F811
    work = setup['root'] / 'work_dirs' / 'gpu_dist'
    log = _dist('tools/dist_train.sh', setup['config'], '1', '--validate', '--test-last',
                '--seed', '0', '--work-dir', str(work), '--cfg-options', 'total_epochs=1')
    assert 'Epoch(val)' in log and 'Epoch(test)' in log and (work / 'epoch_1.pth').is_file()
    assert 'memory:' in log  # mmengine logs GPU memory only when training on CUDA


def test_resume_after_a_kill_continues_exactly_under_deterministic(setup):  # noqa: F811
    root = setup['root']
    whole, broken = root / 'work_dirs' / 'gpu_whole', root / 'work_dirs' / 'gpu_broken'
    args = ['--seed', '0', '--deterministic', '--cfg-options', 'total_epochs=2']

    def train(work, *extra):
        out = subprocess.run([sys.executable, 'tools/train.py', setup['config'], '--work-dir',
                              str(work), *args, *extra], cwd=ROOT, env=_env(),
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        return out.stdout + out.stderr

    train(whole)
    proc = subprocess.Popen([sys.executable, 'tools/train.py', setup['config'], '--work-dir',
                             str(broken), *args], cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (broken / 'epoch_1.pth').exists() and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (broken / 'epoch_2.pth').exists(), 'killed too late to test anything'
    log = train(broken, '--resume')
    assert re.search(r'resumed epoch: 1, iter: \d+', log)
    a = torch.load(whole / 'epoch_2.pth', weights_only=True)
    b = torch.load(broken / 'epoch_2.pth', weights_only=True)
    for key in a['state_dict']:
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key
    rows_whole, rows_broken = _scalars(str(whole)), _scalars(str(broken))
    for key, row in rows_whole.items():
        assert row['loss'] == rows_broken[key]['loss'], key


def test_quickstart_end_to_end_on_cuda(tmp_path):
    out = subprocess.run([sys.executable, 'tools/quickstart.py', '--tiny', '--work-dir',
                          str(tmp_path / 'wd'), '--data-root', str(tmp_path / 'data')],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert 'top-1' in out.stdout
    logs = list((tmp_path / 'wd').glob('2*/*.log'))
    assert logs and any('memory:' in p.read_text() for p in logs)  # trained on the GPU


def test_test_scores_under_autocast_match_float32(setup):  # noqa: F811
    import numpy as np
    work = setup['root'] / 'work_dirs' / 'gpu_eval'
    _dist('tools/dist_train.sh', setup['config'], '1', '--seed', '0', '--work-dir', str(work),
          '--cfg-options', 'total_epochs=1')
    scores = {}
    for amp in ('none', 'fp16', 'bf16'):
        out_file = work / f'scores_{amp}.pkl'
        out = subprocess.run([sys.executable, 'tools/test.py', setup['config'],
                              str(work / 'epoch_1.pth'), '--out', str(out_file), '--amp', amp,
                              '--work-dir', str(work / f'test_{amp}')],
                             cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        assert (f'under {dict(fp16="float16", bf16="bfloat16").get(amp)} autocast' in
                out.stdout + out.stderr) == (amp != 'none')
        with open(out_file, 'rb') as f:
            scores[amp] = np.stack(pickle.load(f))
    np.testing.assert_allclose(scores['fp16'], scores['none'], atol=5e-3)
    np.testing.assert_allclose(scores['bf16'], scores['none'], atol=3e-2)
