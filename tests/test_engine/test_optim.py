"""Optimizer glue from AIM's config dialect: gradient accumulation, decay_mult, frozen
parameters, and mixed precision selection."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmaction.engine import resolve_precision, translate_config
from mmaction.registry import MODELS
from tests.test_engine.engine_helpers import make_batch, tiny_model_cfg

K400 = 'configs/recognition/vit/vitclip_base_k400.py'


def _optim_cfg(**optimizer_config):
    """The k400 config's optimizer settings with optimizer_config overrides, translated."""
    cfg = Config.fromfile(K400)
    cfg.optimizer_config.update(optimizer_config)
    return translate_config(cfg).optim_wrapper


def _record_grads(wrapper):
    """Replace optimizer.step by a recorder of the gradients it would apply."""
    seen = []

    def step(*args, **kwargs):
        seen.append({id(p): p.grad.clone() for g in wrapper.optimizer.param_groups
                     for p in g['params'] if p.grad is not None})
    wrapper.optimizer.step = step
    return seen


def test_update_interval_4_with_batch_2_equals_batch_8():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    batch = make_batch(8, seed=1)

    small = build_optim_wrapper(model, resolve_precision(_optim_cfg(update_interval=4),
                                                         cuda=False))
    assert small._accumulative_counts == 4
    small.initialize_count_status(model, 0, 4)
    grads_small = _record_grads(small)
    for k in range(4):
        part = {key: value[2 * k:2 * k + 2] for key, value in batch.items()}
        model.train_step(part, small)
    assert len(grads_small) == 1, 'one optimizer update after four batches of two'

    large = build_optim_wrapper(model, resolve_precision(_optim_cfg(update_interval=1),
                                                         cuda=False))
    large.initialize_count_status(model, 0, 1)
    grads_large = _record_grads(large)
    model.train_step(batch, large)

    assert len(grads_large) == 1
    (a, ), (b, ) = grads_small, grads_large
    assert a.keys() == b.keys() and len(a) > 0
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-7)


def test_decay_mult_zero_keys_get_no_weight_decay_and_frozen_params_stay_out():
    model = MODELS.build(tiny_model_cfg())
    wrapper = build_optim_wrapper(model, resolve_precision(_optim_cfg(), cuda=False))
    in_optimizer = [p for g in wrapper.optimizer.param_groups for p in g['params']]
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert {id(p) for p in in_optimizer} == {id(p) for p in trainable}

    names = {id(p): n for n, p in model.named_parameters()}
    with torch.no_grad():
        for p in trainable:
            p.fill_(1.0)
            p.grad = torch.zeros_like(p)  # Adam's step is 0: only weight decay acts
    wrapper.step()
    lr, wd = 3e-4, 0.05
    no_decay = ('ln_post', )  # decay_mult=0 in AIM's keys; temporal_embedding decays
    checked = set()
    for p in trainable:
        name = names[id(p)]
        expected = 1.0 if any(k in name for k in no_decay) else 1 - lr * wd
        torch.testing.assert_close(p.detach(), torch.full_like(p, expected), rtol=0, atol=1e-9)
        checked.add(any(k in name for k in no_decay))
    assert checked == {True, False}


def test_grad_clip_and_cumulative_iters_translate():
    ow = _optim_cfg(grad_clip=dict(max_norm=20, norm_type=2), update_interval=2)
    assert ow.clip_grad == dict(max_norm=20, norm_type=2)
    cfg = Config.fromfile(K400)
    cfg.optimizer_config = dict(type='GradientCumulativeOptimizerHook', cumulative_iters=3)
    assert translate_config(cfg).optim_wrapper.accumulative_counts == 3


def test_use_fp16_selects_native_amp_with_dynamic_loss_scale(mmlog):
    ow = _optim_cfg(use_fp16=True)
    assert (ow.type, ow.dtype, ow.loss_scale) == ('AmpOptimWrapper', 'float16', 'dynamic')
    on_gpu = resolve_precision(dict(ow), cuda=True)
    assert (on_gpu['type'], on_gpu['dtype'], on_gpu['loss_scale']) == \
        ('AmpOptimWrapper', 'float16', 'dynamic')
    assert on_gpu['accumulative_counts'] == ow.accumulative_counts
    on_cpu = resolve_precision(dict(ow), cuda=False)
    assert on_cpu['type'] == 'OptimWrapper' and 'dtype' not in on_cpu
    assert 'no CUDA device' in mmlog.text and 'fp32' in mmlog.text

    plain = _optim_cfg(use_fp16=False)
    assert plain.type == 'OptimWrapper'
    assert resolve_precision(dict(plain), amp='fp16', cuda=True)['type'] == 'AmpOptimWrapper'
    assert resolve_precision(dict(ow), amp='none', cuda=True)['type'] == 'OptimWrapper'
    static = Config.fromfile(K400)
    static.optimizer_config.use_fp16 = False
    static.fp16 = dict(loss_scale=512.)
    assert translate_config(static).optim_wrapper.loss_scale == 512.


def test_amp_bf16_on_cpu_runs_the_forward_pass_in_bfloat16():
    model = MODELS.build(tiny_model_cfg())
    cfg = resolve_precision(_optim_cfg(use_fp16=True), amp='bf16', cuda=False)
    assert cfg['type'] == 'AutocastOptimWrapper'
    wrapper = build_optim_wrapper(model, cfg)
    wrapper.initialize_count_status(model, 0, 1)
    dtypes = []
    model.cls_head.fc_cls.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    log = model.train_step(make_batch(2), wrapper)
    assert dtypes == [torch.bfloat16]
    assert torch.isfinite(log['loss'])
    assert model.cls_head.fc_cls.weight.dtype == torch.float32  # master weights stay fp32


@pytest.mark.skipif(not torch.cuda.is_available(), reason='fp16 AMP needs CUDA')
def test_fp16_amp_trains_on_cuda():
    model = MODELS.build(tiny_model_cfg()).cuda()
    wrapper = build_optim_wrapper(model, resolve_precision(_optim_cfg(use_fp16=True)))
    wrapper.initialize_count_status(model, 0, 1)
    dtypes = []
    model.cls_head.fc_cls.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    model.train_step(make_batch(2), wrapper)
    assert dtypes == [torch.float16] and wrapper.loss_scaler.get_scale() > 0


def test_vitclip_large_lr_mult_slows_the_whole_backbone_but_not_the_head():
    """AIM's ViT-L K400/SSv2 files: custom key 'backbone' lr_mult=0.1. As in mmcv, only the
    longest key a name contains applies, so ln_post (inside the backbone) takes 'backbone'
    (lr 3e-5, and weight decay: 'ln_post' is shorter) while the head keeps lr 3e-4."""
    cfg = Config.fromfile('configs/recognition/vit/vitclip_large_k400.py')
    model = MODELS.build(tiny_model_cfg())
    wrapper = build_optim_wrapper(model, resolve_precision(translate_config(cfg).optim_wrapper,
                                                           cuda=False))
    setting = {id(p): (g['lr'], g['weight_decay']) for g in wrapper.optimizer.param_groups
               for p in g['params']}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        want = (3e-4, 0.05) if name.startswith('cls_head') else (3e-5, 0.05)
        assert setting[id(p)] == pytest.approx(want), name
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert any('Adapter' in n for n in names) and 'backbone.ln_post.weight' in names


# ------------------------------------------------------------ fp16 dynamic loss scaling
def _fp16_wrapper(model, **loss_scale):
    """What use_fp16=True builds on a GPU, built here on the CPU."""
    on_gpu = resolve_precision(_optim_cfg(use_fp16=True), cuda=True)
    assert (on_gpu['type'], on_gpu['loss_scale']) == ('AmpOptimWrapper', 'dynamic')
    wrapper = build_optim_wrapper(model, dict(on_gpu, loss_scale=loss_scale))
    wrapper.initialize_count_status(model, 0, 100)
    return wrapper


def test_fp16_loss_scaling_skips_overflows_halves_the_scale_and_grows_it_back():
    model = MODELS.build(tiny_model_cfg())
    wrapper = _fp16_wrapper(model, init_scale=1024.0, growth_interval=2)
    assert wrapper.loss_scaler.get_scale() == 1024.0 and wrapper.device_type == 'cpu'
    head = model.cls_head.fc_cls
    overflow = [True, False, False, False, True]  # gradients of infinite size at steps 1, 5
    head.weight.register_hook(lambda g: torch.full_like(g, float('inf')) if overflow[0] else g)
    dtypes = []
    head.register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
    trained = [p for p in model.parameters() if p.requires_grad]
    scales, updated = [], []
    for step in range(5):
        before = [p.detach().clone() for p in trained]
        model.train_step(make_batch(2, seed=step), wrapper)
        updated.append(any(not torch.equal(a, p) for a, p in zip(before, trained)))
        scales.append(wrapper.loss_scaler.get_scale())
        overflow.pop(0)
    assert dtypes == [torch.float16] * 5  # the forward pass ran under float16 autocast
    # skipped, halved; two good steps (growth_interval=2) double it; good; skipped, halved
    assert updated == [False, True, True, True, False]
    assert scales == [512.0, 512.0, 1024.0, 1024.0, 512.0]


def test_loss_scaler_state_survives_resume(tmp_path):
    from mmaction.checkpoint import read_checkpoint
    from mmaction.engine import ActionRunner

    class Clips(torch.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            batch = make_batch(1, seed=i)
            return dict(inputs=batch['inputs'][0], data_samples=batch['data_samples'][0])

    optim = dict(resolve_precision(_optim_cfg(use_fp16=True), cuda=True),
                 loss_scale=dict(init_scale=2.0**12, growth_interval=3))

    def runner(work, epochs, **kw):
        return ActionRunner(
            model=tiny_model_cfg(), work_dir=str(tmp_path / work), default_scope='mmaction',
            experiment_name=f'fp16_resume_{work}_{epochs}',
            train_dataloader=dict(dataset=Clips(), batch_size=4, num_workers=0,
                                  sampler=dict(type='DefaultSampler', shuffle=False),
                                  collate_fn=dict(type='pseudo_collate')),
            train_cfg=dict(by_epoch=True, max_epochs=epochs), optim_wrapper=optim,
            randomness=dict(seed=0), **kw)

    whole = runner('whole', 2)
    whole.train()
    runner('broken', 1).train()
    saved = read_checkpoint(str(tmp_path / 'broken' / 'epoch_1.pth'))['optimizer']['loss_scaler']
    assert saved['_growth_tracker'] == 2  # two steps since the last change: not a fresh scaler
    resumed = runner('broken', 2, load_from=str(tmp_path / 'broken' / 'epoch_1.pth'),
                     resume=True)
    resumed.train()
    assert resumed.optim_wrapper.loss_scaler.state_dict() == \
        whole.optim_wrapper.loss_scaler.state_dict()
    assert resumed.optim_wrapper.loss_scaler.state_dict()['_growth_tracker'] == 1  # 4 steps
    for key, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
