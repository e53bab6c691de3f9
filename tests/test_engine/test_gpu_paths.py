"""What a first run on GPUs goes through, exercised on the CPU: resuming where mmengine picks
the GPU, several processes (gloo stands in for NCCL), --deterministic, the MPI launcher,
AIM's fp16 settings, evaluation under autocast, and the per-step host syncs avoided.

A ``meta`` tensor stands for a tensor on an accelerator: anything that would read it back on
the host (a sync on a GPU) fails on it.
"""
import os
import os.path as osp
import pickle
import random
import socket
import time
import unittest.mock
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from mmaction.checkpoint import to_plain
from mmaction.engine import ActionRunner, adapt_to_device, translate_config
from mmaction.engine.config.dialect import translate_data, translate_optimizer
from mmaction.engine.launch import export_local_rank, init_distributed, mpi_environment
from mmaction.engine.optim import allow_tf32, resolve_precision
from mmaction.models.common.resize import separable_interpolate
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils.randomness import (
    gather_rng_states,
    rank_rng_state,
    seed_everything,
    set_rng_state,
    use_deterministic_cublas,
)
from tests.helpers import OpDtypes
from tests.test_engine.engine_helpers import tiny_model_cfg


# ----------------------------------------------------------------------------- helpers
class _Clips(torch.utils.data.Dataset):
    """Random uint8 clips shaped like the tiny model's input, labels 0..4."""

    def __init__(self, n=8):
        g = torch.Generator().manual_seed(0)
        self.clips = torch.randint(0, 256, (n, 1, 3, 4, 32, 32), generator=g, dtype=torch.uint8)
        self.labels = torch.arange(n) % 5

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return dict(inputs=self.clips[i],
                    data_samples=ActionDataSample().set_gt_label(int(self.labels[i])))


def _runner(work_dir, max_epochs, **kw):
    _runner.count = getattr(_runner, 'count', 0) + 1
    loader = dict(dataset=_Clips(), batch_size=4, num_workers=0,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='pseudo_collate'))
    settings = dict(
        model=tiny_model_cfg(), work_dir=str(work_dir), train_dataloader=loader,
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3),
                           constructor='TrainableParamsOptimWrapperConstructor'),
        default_scope='mmaction', experiment_name=f'gpu_paths_{_runner.count}',
        randomness=dict(seed=0))
    settings.update(kw)
    return ActionRunner(**settings)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _in_two_processes(fn, *args):
    """Run ``fn(rank, rendezvous, *args)`` in two processes; a failure in either fails the
    test. ``rendezvous`` is a fresh file for :func:`_join_gloo` (no port to collide on)."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(fn, args=(osp.join(tmp, 'rendezvous'), *args), nprocs=2, join=True)


def _join_gloo(rank, rendezvous):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{rendezvous}', rank=rank,
                            world_size=2)


# ------------------------------------------------------------------- 1. resume on a GPU
def test_resume_reads_the_checkpoint_to_the_cpu_whatever_device_mmengine_picks(
        tmp_path, monkeypatch):
    import mmengine.runner.runner as mmengine_runner
    first = _runner(tmp_path / 'work', max_epochs=1)
    first.train()
    resumed = _runner(tmp_path / 'work', max_epochs=2, load_from=str(tmp_path / 'work' /
                                                                     'epoch_1.pth'),
                      resume=True)
    # mmengine resumes onto get_device(): 'cuda' on a GPU machine. The message hub and the
    # random state are then rebuilt from device tensors, which the host cannot read as numpy
    monkeypatch.setattr(mmengine_runner, 'get_device', lambda: 'meta')
    resumed.train()
    with open(resumed.logger.log_file) as f:
        assert 'resumed epoch: 1, iter: 2' in f.read()
    assert resumed.iter == 4
    steps = [s['step'] for s in resumed.optim_wrapper.optimizer.state.values()]
    assert steps and all(s.device.type == 'cpu' for s in steps)  # no sync per step


# ------------------------------------------------------ 2. --test-best under DDP
def _test_best_reader(rank, rendezvous, path):
    _join_gloo(rank, rendezvous)
    runner = ActionRunner.__new__(ActionRunner)  # only test_checkpoint is exercised
    seen = {}
    runner.test = lambda: seen.setdefault('complete', osp.isfile(path))
    if rank == 0:  # rank 0 validates, finds a new best and writes it: it takes a while
        time.sleep(1.0)
        with open(path, 'wb') as f:
            f.write(b'best weights')
    ActionRunner.test_checkpoint(runner, path)
    assert seen['complete'], f'rank {rank} read {path} before rank 0 had written it'


def test_test_best_reads_the_best_checkpoint_after_rank_0_wrote_it(tmp_path):
    _in_two_processes(_test_best_reader, str(tmp_path / 'best_top1_acc_epoch_3.pth'))


# ------------------------------------------------------------- 3. --deterministic
def test_deterministic_training_sets_the_cublas_workspace_config(monkeypatch):
    monkeypatch.delenv('CUBLAS_WORKSPACE_CONFIG', raising=False)
    assert use_deterministic_cublas()
    assert os.environ['CUBLAS_WORKSPACE_CONFIG'] == ':4096:8'
    monkeypatch.setenv('CUBLAS_WORKSPACE_CONFIG', ':16:8')  # the user's reproducible choice
    assert not use_deterministic_cublas()
    assert os.environ['CUBLAS_WORKSPACE_CONFIG'] == ':16:8'
    monkeypatch.setenv('CUBLAS_WORKSPACE_CONFIG', ':0:0')
    with pytest.raises(ValueError, match="one of .*':4096:8'.*Unset it"):
        use_deterministic_cublas()


def test_runner_with_deterministic_randomness_sets_it(tmp_path, monkeypatch):
    monkeypatch.delenv('CUBLAS_WORKSPACE_CONFIG', raising=False)
    before = torch.are_deterministic_algorithms_enabled()
    try:
        _runner(tmp_path, max_epochs=1, randomness=dict(seed=0, deterministic=True))
        assert os.environ.get('CUBLAS_WORKSPACE_CONFIG') == ':4096:8'
    finally:
        torch.use_deterministic_algorithms(before)


def test_tools_train_sets_it_before_the_process_group_starts(tmp_path, monkeypatch):
    import tools.train as train
    monkeypatch.delenv('CUBLAS_WORKSPACE_CONFIG', raising=False)
    seen = []

    def stop(launcher, cfg):
        seen.append(os.environ.get('CUBLAS_WORKSPACE_CONFIG'))
        raise SystemExit(0)

    monkeypatch.setattr(train, 'init_distributed', stop)
    with pytest.raises(SystemExit):
        train.main(['configs/recognition/vit/vitclip_base_k400.py', '--deterministic'])
    assert seen == [':4096:8']


@pytest.mark.parametrize('mode,align,shape,size', [
    ('linear', False, (2, 5, 8), (16, )), ('linear', False, (2, 5, 8), (3, )),
    ('linear', True, (1, 4, 7), (13, )), ('bicubic', False, (1, 3, 14, 14), (16, 12)),
    ('bicubic', True, (1, 2, 6, 5), (9, 3)), ('bilinear', False, (1, 2, 6, 5), (4, 10))])
def test_separable_interpolation_equals_f_interpolate_forward_and_backward(mode, align, shape,
                                                                          size):
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(shape[:2] + size, dtype=torch.float64)
    ours = separable_interpolate(x, size, mode, align)
    grad_ours, = torch.autograd.grad((ours * weights).sum(), x)
    theirs = F.interpolate(x, size=size, mode=mode, align_corners=align)
    grad_theirs, = torch.autograd.grad((theirs * weights).sum(), x)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_ours, grad_theirs, rtol=1e-12, atol=1e-12)


def _graph_ops(tensor):
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(n for n, _ in node.next_functions)
    return {type(n).__name__ for n in seen}


def test_deterministic_mode_avoids_the_interpolation_backward_cuda_lacks():
    """CUDA's backward of linear/bicubic interpolation has no deterministic kernel: under
    torch.use_deterministic_algorithms(True), ViT_CLIP's resampled temporal and positional
    embeddings and AIM-Swin's resampled temporal table are built without it."""
    from mmaction.models.backbones.swin2d_adapter import SpaceTimeWindowAttention
    with torch.device('meta'):
        vit = MODELS.build(tiny_model_cfg()).backbone
        swin = SpaceTimeWindowAttention(16, (2, 2), num_heads=2, num_t_tokens=4)
    vit.positional_embedding.requires_grad_(True)  # trained when fine-tuning everything
    before = torch.are_deterministic_algorithms_enabled()
    try:
        for deterministic in (False, True):
            torch.use_deterministic_algorithms(deterministic)
            for resampled in (vit._temporal_embedding(6), vit._positional_embedding(3, 3),
                              swin.temporal_bias(3)):
                ops = _graph_ops(resampled)
                assert any(op.startswith('Upsample') for op in ops) != deterministic, ops
    finally:
        torch.use_deterministic_algorithms(before)


# --------------------------------------------------- 4. each rank's own random state
def _rng_round_trip(rank, rendezvous, path):
    _join_gloo(rank, rendezvous)
    # a fake CUDA device per process, whose generator state is the rank's own
    restored = []
    torch.cuda.is_available = lambda: True
    torch.cuda.is_initialized = lambda: True
    torch.cuda.get_rng_state = lambda device='cuda': torch.full((4, ), rank, dtype=torch.uint8)
    torch.cuda.set_rng_state = lambda state, device='cuda': restored.append(state.tolist())
    seed_everything(100 + rank)  # randomness.diff_rank_seed=True: the ranks' streams differ
    random.random(), np.random.rand(), torch.rand(3)
    saved = gather_rng_states()  # at iter_N.pth, on every rank
    expected = (random.random(), float(np.random.rand()), torch.rand(3).tolist())
    if rank == 0:
        torch.save(to_plain(dict(rng=saved)), path)
    dist.barrier()
    seed_everything(7)  # the restarted process
    loaded = torch.load(path, weights_only=True)['rng']
    set_rng_state(rank_rng_state(loaded, rank, world_size=2))
    assert (random.random(), float(np.random.rand()), torch.rand(3).tolist()) == expected
    assert restored == [[rank] * 4]
    with pytest.raises(ValueError, match='random state of 2 process.*this run has 4'):
        rank_rng_state(loaded, rank, world_size=4)


def test_each_rank_resumes_its_own_random_state(tmp_path):
    _in_two_processes(_rng_round_trip, str(tmp_path / 'iter_8.pth'))


# ------------------------------------------------------------------- 5. MPI launcher
OPEN_MPI = dict(OMPI_COMM_WORLD_RANK='5', OMPI_COMM_WORLD_SIZE='8',
                OMPI_COMM_WORLD_LOCAL_RANK='1', OMPI_COMM_WORLD_LOCAL_SIZE='4',
                MASTER_ADDR='10.0.0.1')
MPICH = dict(PMI_RANK='3', PMI_SIZE='4', MPI_LOCALRANKID='3', MPI_LOCALNRANKS='4')


def test_mpi_ranks_and_the_local_gpu_come_from_the_mpi_launcher(monkeypatch):
    for name in ('LOCAL_RANK', 'RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(name, raising=False)
    for key, value in OPEN_MPI.items():
        monkeypatch.setenv(key, value)
    export_local_rank(0, 'mpi')  # what tools/train.py does with --launcher mpi
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'], os.environ['LOCAL_RANK']) == \
        ('5', '8', '1')
    assert mpi_environment(MPICH) == dict(RANK='3', WORLD_SIZE='4', LOCAL_RANK='3',
                                          MASTER_PORT='29500', MASTER_ADDR='127.0.0.1')
    with pytest.raises(RuntimeError, match='needs MASTER_ADDR'):  # 8 processes, 4 per node
        mpi_environment({k: v for k, v in OPEN_MPI.items() if k != 'MASTER_ADDR'})
    with pytest.raises(RuntimeError, match='OMPI_COMM_WORLD_RANK .*PMI_RANK.*mpirun'):
        mpi_environment({})


def _mpi_process(rank, rendezvous, port):
    os.environ.update(OMPI_COMM_WORLD_RANK=str(rank), OMPI_COMM_WORLD_SIZE='2',
                      OMPI_COMM_WORLD_LOCAL_RANK=str(rank), OMPI_COMM_WORLD_LOCAL_SIZE='2',
                      MASTER_PORT=str(port))
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR'):
        os.environ.pop(name, None)
    export_local_rank(0, 'mpi')
    init_distributed('mpi', SimpleNamespace(get=lambda key, default=None: default))
    assert (dist.get_rank(), dist.get_world_size(), os.environ['LOCAL_RANK']) == \
        (rank, 2, str(rank))


def test_two_processes_started_as_mpirun_starts_them_form_a_group():
    _in_two_processes(_mpi_process, _free_port())  # MPI jobs meet at MASTER_ADDR:PORT


# --------------------------------------------------------- 6. integer fp16 loss_scale
def test_integer_loss_scale_of_a_0x_config_builds_the_amp_wrapper(monkeypatch):
    import mmengine.optim.optimizer.amp_optimizer_wrapper as amp
    from mmengine.registry import OPTIM_WRAPPERS
    wrapper = translate_optimizer(dict(type='AdamW', lr=1e-3), dict(type='OptimizerHook'),
                                  dict(loss_scale=512))
    wrapper = resolve_precision(wrapper, cuda=True)
    assert wrapper['loss_scale'] == 512.0 and isinstance(wrapper['loss_scale'], float)
    monkeypatch.setattr(amp, 'is_cuda_available', lambda: True)  # the wrapper asks for CUDA
    model = torch.nn.Linear(2, 2)
    built = OPTIM_WRAPPERS.build(
        dict(type='AmpOptimWrapper', loss_scale=wrapper['loss_scale'], dtype='float16'),
        default_args=dict(optimizer=torch.optim.AdamW(model.parameters())))
    assert built._scale_update_param == 512.0  # a static scale, as mmcv's Fp16OptimizerHook
    with pytest.raises(ValueError, match="must be 'dynamic', a positive number"):
        translate_optimizer(dict(type='AdamW', lr=1e-3), {}, dict(loss_scale='512'))


# ------------------------------------------------------- 7. evaluation precision, TF32
VAL_TEST = dict(val_cfg=dict(type='ValLoop'), test_cfg=dict(type='TestLoop'))


@pytest.mark.parametrize('precision,dtype', [('fp16', 'float16'), ('bf16', 'bfloat16'),
                                             ('none', None)])
def test_validation_and_test_run_under_the_training_autocast_on_cuda(precision, dtype):
    from mmengine.config import Config
    optim = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3))
    on_cuda = adapt_to_device(Config(dict(optim_wrapper=optim, **VAL_TEST)), amp=precision,
                              cuda=True)
    assert on_cuda.val_cfg.get('autocast') == on_cuda.test_cfg.get('autocast') == dtype
    on_cpu = adapt_to_device(Config(dict(optim_wrapper=optim, **VAL_TEST)), amp=precision,
                             cuda=False)
    assert 'autocast' not in on_cpu.val_cfg and 'autocast' not in on_cpu.test_cfg
    test_only = adapt_to_device(Config(dict(VAL_TEST)), cuda=True, eval_precision=precision)
    assert test_only.test_cfg.get('autocast') == dtype


def test_tools_test_follows_the_config_precision_unless_told():
    import tools.test as test_tool
    config = 'configs/recognition/vit/vitclip_base_k400.py'  # use_fp16=True, as AIM's
    for extra, dtype in (([], 'float16'), (['--amp', 'none'], None), (['--amp', 'bf16'],
                                                                       'bfloat16')):
        args = test_tool.parse_args([config, 'ckpt.pth', '--eval', 'top_k_accuracy', *extra])
        with unittest.mock.patch('torch.cuda.is_available', lambda: True):
            cfg = test_tool.build_config(args)
        assert cfg.test_cfg.get('autocast') == dtype, extra


def test_autocast_test_loop_runs_the_model_in_bf16_within_tolerance_of_float32(tmp_path):
    from mmaction.engine.loops import TestLoop
    results = {}
    for dtype in (None, 'bfloat16'):
        runner = _runner(tmp_path / str(dtype), max_epochs=1,
                         test_dataloader=dict(dataset=_Clips(), batch_size=4, num_workers=0,
                                              sampler=dict(type='DefaultSampler',
                                                           shuffle=False),
                                              collate_fn=dict(type='pseudo_collate')),
                         test_cfg=dict(type='TestLoop', autocast=dtype),
                         test_evaluator=dict(type='DumpResults',
                                             out_file=str(tmp_path / f'{dtype}.pkl'),
                                             item_format='scores'))
        assert isinstance(runner.test_loop, TestLoop)
        seen = []
        runner.model.cls_head.fc_cls.register_forward_hook(
            lambda module, args, out: seen.append(out.dtype))
        with OpDtypes() as ops:
            runner.test()
        assert set(seen) == {torch.bfloat16 if dtype else torch.float32}
        # LayerNorms normalise in float32 either way; the matrix products run in the
        # autocast dtype (2 test batches; 8 LayerNorms and 29 products per forward pass)
        assert ops.dtypes(('native_layer_norm', )) == [{torch.float32}] * 2 * 8
        assert ops.dtypes(OpDtypes.MATMULS) == \
            [{torch.bfloat16 if dtype else torch.float32}] * 2 * (29 + 1)  # + the head
        with open(tmp_path / f'{dtype}.pkl', 'rb') as f:
            results[dtype] = np.stack(pickle.load(f))
    np.testing.assert_allclose(results['bfloat16'], results[None], atol=2e-2)


def test_tf32_is_allowed_for_float32_work_on_cuda_only():
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        allow_tf32(True, cuda=False)
        assert not torch.backends.cuda.matmul.allow_tf32  # nothing changes on the CPU
        allow_tf32(True, cuda=True)
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        allow_tf32(False, cuda=True)  # env_cfg.allow_tf32=False
        assert not torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def test_env_cfg_allow_tf32_of_a_0x_config_reaches_the_runner(tmp_path, monkeypatch):
    from mmengine.config import Config

    import mmaction.engine.runner as runner_module
    cfg = Config.fromfile('configs/recognition/vit/vitclip_base_k400.py')
    cfg.env_cfg = dict(allow_tf32=False)
    env_cfg = translate_config(cfg).env_cfg
    assert env_cfg.allow_tf32 is False
    applied = []
    monkeypatch.setattr(runner_module, 'allow_tf32', applied.append)
    _runner(tmp_path / 'a', max_epochs=1, env_cfg=env_cfg)
    _runner(tmp_path / 'b', max_epochs=1)
    assert applied == [False, True]  # TF32 unless the config says otherwise


# ------------------------------------------------------- 8. no host sync per step
def test_blending_of_device_labels_does_not_read_them_back():
    from mmaction.models.blending import CutmixBlending, LabelSmoothing, MixupBlending
    labels = torch.tensor([0, 3, 1], device='meta')
    for blending in (LabelSmoothing(num_classes=4), MixupBlending(num_classes=4),
                     CutmixBlending(num_classes=4)):
        _, target = blending(torch.zeros(3, 3, 2, 8, 8, device='meta'), labels)
        assert target.shape == (3, 4) and target.device.type == 'meta'
    # on the CPU the labels are checked, with a message
    with pytest.raises(ValueError, match=r'labels \[0, 4\] are out of range .*num_classes=4'):
        LabelSmoothing(num_classes=4)(torch.zeros(2, 3), torch.tensor([0, 4]))
    torch.testing.assert_close(  # same targets as F.one_hot on both paths
        MixupBlending(num_classes=4)._onehot(torch.tensor([2, 0]), torch.float32),
        torch.tensor([[0., 0., 1., 0.], [1., 0., 0., 0.]]))


def test_batches_go_to_the_device_without_blocking(monkeypatch):
    from mmaction.models.data_preprocessor import ActionDataPreprocessor
    calls = []
    original = torch.Tensor.to

    def record(self, *args, **kwargs):
        calls.append(kwargs.get('non_blocking'))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, 'to', record)
    ActionDataPreprocessor(mean=[0.] * 3, std=[1.] * 3)(
        dict(inputs=[torch.zeros(1, 3, 2, 4, 4, dtype=torch.uint8)],
             data_samples=[ActionDataSample().set_gt_label(1)]))
    assert calls and all(calls)


def test_data_loader_workers_live_for_the_whole_run():
    data = dict(videos_per_gpu=2, workers_per_gpu=4, train=dict(type='VideoDataset'),
                val=dict(type='VideoDataset'), test=dict(type='VideoDataset'))
    loaders = translate_data(data, cuda=True)
    assert all(loaders[f'{s}_dataloader']['persistent_workers'] for s in ('train', 'val',
                                                                          'test'))
    assert loaders['train_dataloader']['pin_memory']
    no_workers = translate_data(dict(data, workers_per_gpu=0), cuda=True)
    assert not no_workers['train_dataloader']['persistent_workers']  # torch refuses it
    asked = translate_data(dict(data, persistent_workers=False), cuda=True)
    assert not asked['val_dataloader']['persistent_workers']


# ------------------------------------------------------------ speed switches (issue 15)
def test_compile_runs_the_backbone_compiled_with_the_eager_results_and_checkpoint_keys(
        tmp_path):
    """compile=True (--compile) compiles the backbone in place. aot_eager traces the same
    graphs as inductor without generating code, which keeps this test fast on the CPU."""
    runs = {}
    for name, compile_cfg in (('eager', None), ('compiled', dict(backend='aot_eager'))):
        runner = _runner(tmp_path / name, max_epochs=1, cfg=dict(compile=compile_cfg))
        runner.train()
        backbone = runner.model.backbone
        assert (getattr(backbone, '_compiled_call_impl', None) is not None) == bool(compile_cfg)
        runs[name] = torch.load(tmp_path / name / 'epoch_1.pth', weights_only=True)
    eager, compiled = runs['eager']['state_dict'], runs['compiled']['state_dict']
    assert list(eager) == list(compiled)  # no '_orig_mod.' in the names
    for key in eager:
        torch.testing.assert_close(compiled[key], eager[key], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='compile must be True, False or a dict'):
        _runner(tmp_path / 'bad', max_epochs=1, cfg=dict(compile='yes')).train()


def test_fused_adamw_from_the_config_trains_as_the_default_adamw(tmp_path):
    """optimizer.fused=True (--cfg-options) reaches torch's AdamW through the trainable-only
    constructor; its single fused kernel updates as the default multi-tensor one does."""
    weights = {}
    for fused in (False, True):
        runner = _runner(tmp_path / str(fused), max_epochs=2,
                         optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3, fused=fused),
                                            constructor='TrainableParamsOptimWrapperConstructor'))
        runner.train()
        assert runner.optim_wrapper.optimizer.defaults['fused'] is fused
        weights[fused] = runner.model.state_dict()
    for key, value in weights[False].items():
        torch.testing.assert_close(weights[True][key], value, rtol=1e-5, atol=1e-7)
