"""End to end on tiny generated videos, through the real tools and datasets:
tools/dist_train.sh (2 processes, gloo) with --validate --test-last, tools/dist_test.sh against a
single-process test, SIGKILL + --resume against an uninterrupted run, and a
model.backbone.num_frames=3 run saved with save_tunable_only and tested from that file."""
import glob
import json
import os
import os.path as osp
import pickle
import re
import signal
import socket
import subprocess
import sys
import time

import av
import numpy as np
import pytest
import torch

from tests.helpers import make_clip_tower, write_clip_file

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NUM_CLASSES = 4
SPLITS = dict(train=12, val=5, test=7)  # 7: not divisible by 2 processes

CONFIG = '''
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ViT_CLIP', input_resolution=32, patch_size=8, num_frames=4, width=64,
                  layers=2, heads=4, drop_path_rate=0.1, pretrained=None),
    cls_head=dict(type='I3DHead', in_channels=64, num_classes={num_classes}, dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob'))
img_norm_cfg = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='Flip', flip_ratio=0),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])
]
data = dict(
    videos_per_gpu=2,
    workers_per_gpu=1,
    val_dataloader=dict(videos_per_gpu=1, workers_per_gpu=1),
    test_dataloader=dict(videos_per_gpu=1, workers_per_gpu=1),
    train=dict(type='VideoDataset', ann_file='{root}/train.txt', data_prefix='{root}/videos',
               pipeline=train_pipeline),
    val=dict(type='VideoDataset', ann_file='{root}/val.txt', data_prefix='{root}/videos',
             pipeline=test_pipeline),
    test=dict(type='VideoDataset', ann_file='{root}/test.txt', data_prefix='{root}/videos',
              pipeline=test_pipeline))
evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'])
optimizer = dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05,
                 paramwise_cfg=dict(custom_keys={{'temporal_embedding': dict(decay_mult=0.),
                                                 'ln_post': dict(decay_mult=0.)}}))
optimizer_config = dict(type='DistOptimizerHook', update_interval=2, grad_clip=None,
                        coalesce=True, bucket_size_mb=-1, use_fp16=True)
fp16 = None
lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup='linear', warmup_by_epoch=True,
                 warmup_iters=0.5)
total_epochs = 3
checkpoint_config = dict(interval=1)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
dist_params = dict(backend='nccl')
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
work_dir = '{root}/work_dirs/default'
find_unused_parameters = False
'''


def _encode(path, seed, frames=16, width=64, height=48):  # decord needs width % 32 == 0
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    with av.open(path, 'w') as container:
        stream = container.add_stream('libx264', rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, 'yuv420p'
        for i in range(frames):
            img = np.roll(base, shift=2 * i * (seed % 3 - 1), axis=1)  # motion by class
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('e2e')
    os.makedirs(root / 'videos')
    seed = 0
    for split, count in SPLITS.items():
        lines = []
        for i in range(count):
            name = f'{split}_{i}.mp4'
            _encode(str(root / 'videos' / name), seed)
            lines.append(f'{name} {seed % NUM_CLASSES}')
            seed += 1
        (root / f'{split}.txt').write_text('\n'.join(lines) + '\n')
    config = root / 'tiny_aim.py'
    config.write_text(CONFIG.format(root=root, num_classes=NUM_CLASSES))
    clip = write_clip_file(root / 'tiny_clip.pt', make_clip_tower(seed=3), jit=True)
    return dict(root=root, config=str(config), clip=clip)


def _env(threads=1):
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS=str(threads))
    env.pop('RANK', None)
    return env


def _run(args, **kwargs):
    out = subprocess.run(args, cwd=ROOT, env=_env(), capture_output=True, text=True,
                         timeout=600, **kwargs)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


def _train(config, work_dir, *extra):
    return _run([sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir),
                 '--seed', '0', *extra])


def _scalars(work_dir, runs='*'):
    """Training scalars per (epoch, iter) from the JSON-lines logs of the runs in work_dir
    (``runs``: a glob of their timestamped folders)."""
    rows = {}
    for path in sorted(glob.glob(osp.join(work_dir, runs, 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'loss' in row:
                    rows[(row['epoch'], row['iter'])] = row
    return rows


def _test_metrics(output):
    """The metrics of the last ``Epoch(test)`` line of a log."""
    line = [x for x in output.splitlines() if 'Epoch(test)' in x and 'top1_acc' in x][-1]
    return dict(re.findall(r'(top1_acc|top5_acc|mean_class_accuracy): ([0-9.]+)', line))


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _dist(tool, *args):
    env = dict(_env(), PORT=str(_free_port()))
    proc = subprocess.run(['bash', tool, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    return log


def test_dist_train_and_dist_test_equal_single_process(setup):
    work = setup['root'] / 'work_dirs' / 'dist'
    log = _dist('tools/dist_train.sh', setup['config'], '2', '--validate', '--test-last',
                '--test-best', '--seed', '0', '--work-dir', str(work))
    names = sorted(os.listdir(work))
    assert {'epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth', 'last_checkpoint'} <= set(names)
    assert any(n.startswith('best_top1_acc_epoch_') for n in names)
    (run_dir, ) = [d for d in glob.glob(str(work / '2*')) if osp.isdir(d)]
    text_log = glob.glob(osp.join(run_dir, '*.log'))[0]
    with open(text_log) as f:
        text = f.read()
    assert 'Epoch(train)' in text and 'eta:' in text and 'Tunable parameters:' in text
    rows = _scalars(str(work))
    assert len(rows) == 3 * 3  # 12 videos / (2 processes x 2) = 3 iterations, 3 epochs
    assert {'loss', 'lr', 'top1_acc', 'time', 'data_time'} <= set(next(iter(rows.values())))
    assert text.count('Epoch(test)') >= 2  # --test-last and --test-best
    assert 'Accuracy over 7 of 7 videos' in log

    ckpt = str(work / 'epoch_3.pth')
    dist_out = str(setup['root'] / 'dist.pkl')
    dist_log = _dist('tools/dist_test.sh', setup['config'], ckpt, '2', '--eval',
                     'top_k_accuracy', 'mean_class_accuracy', '--out', dist_out, '--work-dir',
                     str(work / 'test2'))
    single_out = str(setup['root'] / 'single.pkl')
    single_log = _run([sys.executable, 'tools/test.py', setup['config'], ckpt, '--eval',
                       'top_k_accuracy', 'mean_class_accuracy', '--out', single_out,
                       '--work-dir', str(work / 'test1')])
    with open(dist_out, 'rb') as f:
        dist_scores = pickle.load(f)
    with open(single_out, 'rb') as f:
        single_scores = pickle.load(f)
    assert len(dist_scores) == len(single_scores) == SPLITS['test']  # each video once
    for a, b in zip(dist_scores, single_scores):
        np.testing.assert_array_equal(a, b)
    assert _test_metrics(dist_log) == _test_metrics(single_log)
    assert 'Accuracy over 7 of 7 videos' in dist_log


def test_sigkill_then_resume_equals_uninterrupted_run(setup):
    root = setup['root']
    whole, broken = root / 'work_dirs' / 'whole', root / 'work_dirs' / 'broken'
    # 6 iterations per epoch, updates every 4: an epoch ends inside an accumulation window
    options = ['--cfg-options', 'optimizer_config.update_interval=4']
    _train(setup['config'], whole, *options)

    proc = subprocess.Popen([sys.executable, 'tools/train.py', setup['config'], '--work-dir',
                             str(broken), '--seed', '0', *options], cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not osp.exists(broken / 'epoch_1.pth') and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not osp.exists(broken / 'epoch_3.pth'), 'killed too late to test anything'
    latest = (broken / 'last_checkpoint').read_text().strip()
    done = int(re.search(r'epoch_(\d+)\.pth$', latest).group(1))  # 1 or 2
    before = set(glob.glob(str(broken / '2*')))
    log = _train(setup['config'], broken, '--resume', *options)

    # it resumed (a run from scratch with the same seed would end with the same weights)
    assert f'--resume: continuing from {latest}' in log
    assert f'resumed epoch: {done}, iter: {done * 6}' in log
    (resumed_run, ) = set(glob.glob(str(broken / '2*'))) - before
    resumed_rows = _scalars(str(broken), osp.basename(resumed_run))
    assert min(resumed_rows) == (done + 1, done * 6 + 1)  # (epoch, iter) of its first log line
    assert len(resumed_rows) == (3 - done) * 6
    a = torch.load(whole / 'epoch_3.pth', weights_only=True)
    b = torch.load(broken / 'epoch_3.pth', weights_only=True)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key in a['state_dict']:
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key
    assert a['meta']['iter'] == b['meta']['iter'] == 3 * 6
    rows_whole, rows_broken = _scalars(str(whole)), _scalars(str(broken))
    assert set(rows_whole) == set(rows_broken) and len(rows_whole) == 3 * 6
    for key, row in rows_whole.items():
        assert (row['loss'], row['lr']) == (rows_broken[key]['loss'], rows_broken[key]['lr']), key


def test_num_frames_3_trains_on_3_frame_clips_and_tunable_only_checkpoint_tests(setup):
    work = setup['root'] / 'work_dirs' / 'frames3'
    log = _train(setup['config'], work, '--test-last', '--cfg-options',
                 'model.backbone.num_frames=3', f'model.backbone.pretrained={setup["clip"]}',
                 'total_epochs=1', 'checkpoint_config.save_tunable_only=True')
    assert 'data.train.pipeline.1.clip_len: 4 -> 3' in log
    assert 'interpolating' not in log  # the backbone saw 3-frame clips, as sized
    ckpt = torch.load(work / 'epoch_1.pth', weights_only=True)
    assert ckpt['state_dict']['backbone.temporal_embedding'].shape == (1, 3, 64)
    assert 'backbone.conv1.weight' not in ckpt['state_dict']  # frozen: not saved
    assert ckpt['meta']['save_tunable_only']['pretrained'] == setup['clip']

    tested = _run([sys.executable, 'tools/test.py', setup['config'], str(work / 'epoch_1.pth'),
                   '--eval', 'top_k_accuracy', 'mean_class_accuracy', '--work-dir',
                   str(work / 'test'), '--cfg-options', 'model.backbone.num_frames=3',
                   f'model.backbone.pretrained={setup["clip"]}'])
    assert 'was saved with save_tunable_only' in tested
    assert _test_metrics(tested) == _test_metrics(log)  # same as the in-memory final model


KILL_HOOK = '''
import os
import signal

from mmengine.hooks import Hook

from mmaction.registry import HOOKS


@HOOKS.register_module()
class KillAfterIter(Hook):
    """SIGKILL the process right after iteration ``at`` and its checkpoint."""
    priority = 'LOWEST'  # after CheckpointHook

    def __init__(self, at):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at:
            os.kill(os.getpid(), signal.SIGKILL)
'''


def test_resume_part_way_into_an_epoch_equals_uninterrupted_run(setup, tmp_path):
    """iter_interval=2: iter_N.pth every 2 iterations. The run is killed right after
    iteration 8 (2 of the 6 iterations of epoch 2) and resumed from iter_8.pth; with a
    data-loader worker, dropout, drop-path and gradient accumulation, it ends where the
    uninterrupted run ends, bit for bit."""
    root = setup['root']
    whole, broken = root / 'work_dirs' / 'whole_iter', root / 'work_dirs' / 'broken_iter'
    options = ['optimizer_config.update_interval=2', 'checkpoint_config.iter_interval=2']
    _train(setup['config'], whole, '--cfg-options', *options)
    assert sorted(n for n in os.listdir(whole) if n.endswith('.pth')) == \
        ['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth']  # each epoch's replaces its iter_N

    (tmp_path / 'kill_hook.py').write_text(KILL_HOOK)
    killed = tmp_path / 'killed_after_iter_8.py'
    killed.write_text(f"_base_ = ['{setup['config']}']\n"
                      "custom_imports = dict(imports=['kill_hook'])\n"
                      "custom_hooks = [dict(type='KillAfterIter', at=8)]\n")
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(killed), '--work-dir', str(broken), '--seed',
         '0', '--cfg-options', *options],
        cwd=ROOT, env=dict(_env(), PYTHONPATH=f'{ROOT}{os.pathsep}{tmp_path}'),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert sorted(n for n in os.listdir(broken) if n.endswith('.pth')) == \
        ['epoch_1.pth', 'iter_8.pth']
    assert (broken / 'last_checkpoint').read_text().endswith('iter_8.pth')
    refused = subprocess.run(  # other batches: iteration 8 is another point of the data
        [sys.executable, 'tools/train.py', setup['config'], '--work-dir', str(broken), '--seed',
         '0', '--resume', '--cfg-options', *options, 'data.videos_per_gpu=3'],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert refused.returncode != 0
    assert ('iter_8.pth was written after iteration 8 in epoch 1 of a run with 6 iterations '
            'per epoch, but this run has 4') in refused.stdout + refused.stderr
    log = _train(setup['config'], broken, '--resume', '--cfg-options', *options)
    assert 'Resuming part-way into epoch 2: its first 2 of 6 iterations are done' in log
    assert sorted(n for n in os.listdir(broken) if n.endswith('.pth')) == \
        ['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth']  # iter_8.pth replaced by epoch_2.pth

    a = torch.load(whole / 'epoch_3.pth', weights_only=True)
    b = torch.load(broken / 'epoch_3.pth', weights_only=True)
    for key in a['state_dict']:
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key
    for key in ('state', 'param_groups'):
        assert repr(a['optimizer'][key]) == repr(b['optimizer'][key])
    rows_whole, rows_broken = _scalars(str(whole)), _scalars(str(broken))
    assert set(rows_whole) == set(rows_broken) and len(rows_whole) == 3 * 6
    for key, row in rows_whole.items():
        assert (row['loss'], row['lr']) == (rows_broken[key]['loss'], rows_broken[key]['lr']), key


RESTART_HOOK = '''
import os
import signal

from mmengine.dist import barrier, get_rank
from mmengine.hooks import Hook

from mmaction.registry import HOOKS


@HOOKS.register_module()
class KillRank1OnFirstAttempt(Hook):
    """In torchrun's first attempt, SIGKILL rank 1 right after iteration ``at``, once rank 0
    has written that iteration's checkpoint (the barrier: rank 0 saves before it gets here)."""
    priority = 'LOWEST'  # after CheckpointHook

    def __init__(self, at):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at and os.environ['TORCHELASTIC_RESTART_COUNT'] == '0':
            barrier()
            if get_rank() == 1:
                os.kill(os.getpid(), signal.SIGKILL)
'''


@pytest.mark.slow  # two 2-process runs and a restart: over a minute on 2 cores
def test_torchrun_restarts_a_killed_worker_and_the_job_resumes_where_it_was(setup, tmp_path):
    """MAX_RESTARTS=1 tools/dist_train.sh ... --resume, 2 gloo processes: rank 1 is killed
    after iteration 5 (2 of the 3 iterations of epoch 2) and iter_5.pth; torchrun restarts
    both workers, their process group forms again on torchrun's store, they resume from
    iter_5.pth, and the job ends (exit 0) with the weights of an uninterrupted run."""
    root = setup['root']
    whole, broken = root / 'work_dirs' / 'whole_2p', root / 'work_dirs' / 'restarted_2p'
    options = ['--cfg-options', 'total_epochs=2', 'optimizer_config.update_interval=2',
               'checkpoint_config.iter_interval=2']
    _dist('tools/dist_train.sh', setup['config'], '2', '--seed', '0', '--work-dir',
          str(whole), *options)

    (tmp_path / 'restart_hook.py').write_text(RESTART_HOOK)
    killed = tmp_path / 'killed_on_first_attempt.py'
    killed.write_text(f"_base_ = ['{setup['config']}']\n"
                      "custom_imports = dict(imports=['restart_hook'])\n"
                      "custom_hooks = [dict(type='KillRank1OnFirstAttempt', at=5)]\n"
                      # a group that does not form fails in 2 minutes, not 30
                      "dist_params = dict(backend='nccl', timeout=120)\n")
    env = dict(_env(), PORT=str(_free_port()), MAX_RESTARTS='1',
               PYTHONPATH=f'{ROOT}{os.pathsep}{tmp_path}')
    proc = subprocess.run(['bash', 'tools/dist_train.sh', str(killed), '2', '--seed', '0',
                           '--work-dir', str(broken), '--resume', *options], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert re.search(r'exitcode\s*:\s*-9', log) or 'Signals.SIGKILL' in log, log[-4000:]
    assert '--resume: no checkpoint in' in log  # the first attempt started from scratch
    assert f"--resume: continuing from {broken / 'iter_5.pth'}" in log
    assert 'Resuming part-way into epoch 2: its first 2 of 3 iterations are done' in log

    a = torch.load(whole / 'epoch_2.pth', weights_only=True)
    b = torch.load(broken / 'epoch_2.pth', weights_only=True)
    assert a['meta']['iter'] == b['meta']['iter'] == 2 * 3
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key in a['state_dict']:
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key
