"""A short CPU training run of a tiny AIM-Swin config through the real tools: generated videos
(the synthetic motion benchmark), the config dialect, tools/train.py, the Runner. The frozen
backbone starts from an ImageNet-layout Swin file; only AIM's parameters train."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmaction.models.backbones import SwinTransformer2D
from mmaction.synthetic.videos import generate_dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CONFIG = '''
model = dict(
    type='Recognizer3D',
    backbone=dict(type='SwinTransformer2D_Adapter', patch_size=(2, 4, 4), num_frames=8,
                  embed_dim=16, depths=[2, 2], num_heads=[1, 2], window_size=4,
                  input_resolution=32, drop_path_rate=0.0, pretrained='{root}/swin_imagenet.pth'),
    cls_head=dict(type='I3DHead', in_channels=32, num_classes=4, dropout_ratio=0.0),
    test_cfg=dict(average_clips='prob'),
    trainable_params=['Adapter', 'temporal_position_bias_table', r'^backbone\\.norm\\.',
                      'cls_head'])
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])
]
data = dict(
    videos_per_gpu=4,
    workers_per_gpu=0,
    train=dict(type='VideoDataset', ann_file='{root}/train.txt', data_prefix='{root}/videos',
               pipeline=train_pipeline))
optimizer = dict(type='AdamW', lr=1e-2, betas=(0.9, 0.999), weight_decay=0.0)
optimizer_config = dict(grad_clip=None)
lr_config = dict(policy='fixed')
total_epochs = 12
checkpoint_config = dict(interval=12)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
work_dir = '{root}/work_dir'
'''


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('swin_train')
    generate_dataset(str(root), num_train=16, num_val=4, size=32, num_frames=8, num_lanes=2,
                     seed=0)  # 4 classes
    image_model = SwinTransformer2D(patch_size=(1, 4, 4), embed_dim=16, depths=[2, 2],
                                    num_heads=[1, 2], window_size=4, input_resolution=32)
    state = dict(image_model.state_dict())
    state['patch_embed.proj.weight'] = state['patch_embed.proj.weight'][:, :, 0]
    torch.save({'model': state}, root / 'swin_imagenet.pth')
    config = root / 'tiny_aim_swin.py'
    config.write_text(CONFIG.format(root=root))
    return root, str(config)


def test_tiny_aim_swin_training_lowers_the_loss(setup):
    root, config = setup
    out = subprocess.run(
        [sys.executable, 'tools/train.py', config, '--seed', '0'], cwd=ROOT, text=True,
        capture_output=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='2'))
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert 'Loaded ImageNet Swin weights' in log
    assert 'Tunable parameters:' in log
    (scalars, ) = glob.glob(osp.join(root, 'work_dir', '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        rows = [json.loads(line) for line in f if '"loss"' in line]
    epochs = {}
    for row in rows:
        epochs.setdefault(row['epoch'], []).append(row['loss'])
    assert len(epochs) == 12 and all(len(v) == 4 for v in epochs.values())
    first, last = sum(epochs[1]) / 4, sum(epochs[12]) / 4
    assert first == pytest.approx(1.386, abs=0.05)  # chance: ln 4, heads start near zero
    assert last < 0.8 * first, epochs

    # only AIM's parameters moved; the frozen image weights are those of the file
    ckpt = torch.load(osp.join(root, 'work_dir', 'epoch_12.pth'), weights_only=True)
    image = torch.load(osp.join(root, 'swin_imagenet.pth'), weights_only=True)['model']
    key = 'layers.1.blocks.1.attn.qkv.weight'
    assert torch.equal(ckpt['state_dict']['backbone.' + key], image[key])
    assert ckpt['state_dict']['backbone.layers.0.blocks.0.T_Adapter.D_fc2.weight'].abs().sum() > 0
