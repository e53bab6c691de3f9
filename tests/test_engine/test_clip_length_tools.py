"""Train at 8 frames, test at 16 and at 4, through the tools as a user runs them:
``tools/test.py CONFIG CKPT --cfg-options model.backbone.num_frames=16``. The videos' class is
their colour, so a few epochs learn it and the accuracy at another clip length shows that the
resampled model still works (chance is 25%)."""
import os
import os.path as osp
import re
import subprocess
import sys

import av
import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]

CONFIG = '''
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ViT_CLIP', input_resolution=32, patch_size=8, num_frames=8, width=64,
                  layers=2, heads=4, pretrained=None),
    cls_head=dict(type='I3DHead', in_channels=64, num_classes=4, dropout_ratio=0.0),
    test_cfg=dict(average_clips='prob'))
img_norm_cfg = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)
train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])
]
test_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])
]
data = dict(
    videos_per_gpu=4, workers_per_gpu=0,
    train=dict(type='VideoDataset', ann_file='{root}/train.txt', data_prefix='{root}',
               pipeline=train_pipeline),
    test=dict(type='VideoDataset', ann_file='{root}/test.txt', data_prefix='{root}',
              pipeline=test_pipeline))
optimizer = dict(type='AdamW', lr=1e-2, weight_decay=0.0)
optimizer_config = dict(grad_clip=None)
lr_config = dict(policy='fixed')
total_epochs = 5
checkpoint_config = dict(interval=5)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
evaluation = dict(interval=5, metrics=['top_k_accuracy'])
'''


def _encode(path, colour, seed, frames=32, width=64, height=48):
    rng = np.random.default_rng(seed)
    with av.open(path, 'w') as container:
        stream = container.add_stream('libx264', rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, 'yuv420p'
        for _ in range(frames):
            noise = rng.integers(-40, 41, (height, width, 3))
            img = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('clip_length')
    seed = 0
    for split, per_class in (('train', 4), ('test', 2)):
        lines = []
        for label, colour in enumerate(COLOURS):
            for _ in range(per_class):
                name = f'{split}_{seed}.mp4'
                _encode(str(root / name), colour, seed)
                lines.append(f'{name} {label}')
                seed += 1
        (root / f'{split}.txt').write_text('\n'.join(lines) + '\n')
    config = root / 'colours.py'
    config.write_text(CONFIG.format(root=root))
    work = root / 'work'
    _run('tools/train.py', str(config), '--work-dir', str(work), '--seed', '0')
    return dict(config=str(config), ckpt=str(work / 'epoch_5.pth'), work=work)


def _run(tool, *args):
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    out = subprocess.run([sys.executable, tool, *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    return log


@pytest.mark.parametrize('frames', [16, 4])
def test_trained_at_8_frames_tests_at_another_length_with_tools_test(trained, frames):
    log = _run('tools/test.py', trained['config'], trained['ckpt'], '--eval', 'top_k_accuracy',
               '--work-dir', str(trained['work'] / f'test{frames}'),
               '--cfg-options', f'model.backbone.num_frames={frames}')
    assert f'data.test.pipeline.1.clip_len: 8 -> {frames}' in log  # the clips follow
    assert f'interpolated it linearly from T=8 to T={frames}' in log
    line = [x for x in log.splitlines() if 'Epoch(test)' in x and 'top1_acc' in x][-1]
    top1 = float(re.search(r'top1_acc: ([0-9.]+)', line).group(1))
    assert top1 >= 0.75, line  # 8 test videos, 4 classes: chance is 0.25


def test_init_recognizer_takes_the_8_frame_checkpoint_into_a_16_frame_model(trained, mmlog):
    from mmaction.apis import inference_recognizer, init_recognizer
    model = init_recognizer(trained['config'], trained['ckpt'],
                            cfg_options={'model.backbone.num_frames': 16})
    assert model.backbone.temporal_embedding.shape == (1, 16, 64)
    assert 'interpolated it linearly from T=8 to T=16' in mmlog.text
    root = osp.dirname(trained['config'])
    with open(osp.join(root, 'test.txt')) as f:
        samples = [line.split() for line in f if line.strip()]
    predicted = [inference_recognizer(model, osp.join(root, name), topk=1)[0][0]
                 for name, _ in samples]
    assert predicted == [int(label) for _, label in samples]
