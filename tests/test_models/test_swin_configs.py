"""The Swin configs build the models they describe, and AIM-Swin trains what AIM trains."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmaction.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs/recognition/swin/*.py')))


def build_on_meta(cfg):
    model_cfg = cfg.model.copy()
    model_cfg['backbone']['pretrained'] = None
    with torch.device('meta'):
        return MODELS.build(model_cfg)


def test_the_issue_config_names_exist():
    names = {osp.basename(p) for p in CONFIGS}
    assert {'swin2d_adapter_patch244_window7_kinetics400_1k.py',
            'swin2d_adapter_patch244_window7_sthv2_1k.py',
            'swin_base_patch244_window877_kinetics400_1k.py',
            'swin_small_patch244_window877_kinetics400_1k.py',
            'swin_tiny_patch244_window877_kinetics400_1k.py',
            'swin_base_patch244_window877_kinetics400_22k.py',
            'swin_base_patch244_window877_kinetics600_22k.py',
            'swin_base_patch244_window1677_sthv2.py',
            'swin2d_base_patch4_window7_kinetics400_1k.py',
            'swin2d_base_patch4_window7_sthv2.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_pipelines_feed_the_clip_length_and_normalisation_swin_expects(path):
    cfg = Config.fromfile(path)
    frames = cfg.model.backbone.get('num_frames', 32)
    for split in ('train', 'val', 'test'):
        steps = {s['type']: s for s in cfg.data[split].pipeline}
        assert steps['SampleFrames']['clip_len'] == frames, split
        assert steps['Normalize']['mean'] == [123.675, 116.28, 103.53]  # ImageNet's
    assert cfg.model.cls_head.in_channels == cfg.model.backbone.embed_dim * 8


def test_aim_swin_trains_what_aims_train_py_trains_adapters_and_head():
    """AIM's rule ('Adapter', 'temporal_embedding', 'ln_post', 'cls_head') on Swin names."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs/recognition/swin/'
                                   'swin2d_adapter_patch244_window7_kinetics400_1k.py'))
    model = build_on_meta(cfg)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert {n for n in trained if 'Adapter' not in n} == {'cls_head.fc_cls.weight',
                                                         'cls_head.fc_cls.bias'}
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert 'backbone.layers.0.blocks.0.attn.temporal_position_bias_table' in frozen
    assert 'backbone.norm.weight' in frozen
    assert abs(model.num_params / 1e6 - 95.9) < 0.1  # 95.5M backbone + 400-way head
    # 8.76M adapters + the 400-way head (0.41M)
    assert abs(model.num_trainable / 1e6 - 9.17) < 0.01


def test_aim_swin_can_also_train_the_temporal_tables_and_final_norm():
    """The override the base config documents reaches the model."""
    from mmaction.engine import apply_cfg_options
    cfg = Config.fromfile(osp.join(ROOT, 'configs/recognition/swin/'
                                   'swin2d_adapter_patch244_window7_kinetics400_1k.py'))
    apply_cfg_options(cfg, {'model.trainable_params': [
        'Adapter', 'temporal_position_bias_table', r'^backbone\.norm\.', 'cls_head']})
    model = build_on_meta(cfg)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert 'backbone.norm.weight' in trained
    assert 'backbone.layers.0.blocks.0.attn.temporal_position_bias_table' in trained
    assert abs(model.num_trainable / 1e6 - 9.18) < 0.01


@pytest.mark.parametrize('size,params', [('tiny', 28.2), ('small', 49.8), ('base', 88.0)])
def test_video_swin_configs_train_the_head_as_aims_train_py_does(size, params):
    """AIM's train.py freezes every name without 'Adapter', 'temporal_embedding', 'ln_post'
    or 'cls_head', Video Swin's included; model.trainable_params=all fine-tunes it all."""
    from mmaction.engine import apply_cfg_options
    path = osp.join(ROOT, f'configs/recognition/swin/swin_{size}_patch244_window877_'
                    'kinetics400_1k.py')
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.window_size == (8, 7, 7)
    model = build_on_meta(cfg)
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {
        'cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'}
    assert abs(model.num_params / 1e6 - params) < 0.1
    cfg = apply_cfg_options(Config.fromfile(path), {'model.trainable_params': 'all'})
    model = build_on_meta(cfg)
    assert model.num_trainable == model.num_params


# views x frames per split: 4 clips x ThreeCrop for the Kinetics tests, ThreeCrop for SSv2's
SPLITS = {
    'swin2d_adapter_patch244_window7_kinetics400_1k': dict(train=(1, 32), val=(1, 32),
                                                           test=(12, 32)),
    'swin2d_adapter_patch244_window7_sthv2_1k': dict(train=(1, 32), val=(1, 32), test=(3, 32)),
    'swin_tiny_patch244_window877_kinetics400_1k': dict(train=(1, 32), val=(1, 32),
                                                        test=(12, 32)),
}


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    import av
    import numpy as np
    path = tmp_path_factory.mktemp('swin_video') / 'clip.mp4'
    rng = np.random.default_rng(0)
    with av.open(str(path), 'w') as container:
        stream = container.add_stream('libx264', rate=25)
        stream.width, stream.height, stream.pix_fmt = 80, 64, 'yuv420p'
        for _ in range(72):
            frame = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize('name', SPLITS)
def test_swin_config_pipelines_give_the_clips_the_model_takes(name, video, tmp_path):
    from mmaction.datasets import VideoDataset
    cfg = Config.fromfile(osp.join(ROOT, f'configs/recognition/swin/{name}.py'))
    ann = tmp_path / 'list.txt'
    ann.write_text(f'{video.name} 3\n')
    for split, (views, frames) in SPLITS[name].items():
        data = dict(cfg.data[split], ann_file=str(ann), data_prefix=str(video.parent))
        data.pop('type')
        sample = VideoDataset(**data)[0]
        assert sample['inputs'].dtype == torch.uint8
        assert tuple(sample['inputs'].shape) == (views, 3, frames, 224, 224), split
        assert sample['data_samples'].gt_label.tolist() == [3]


@pytest.mark.parametrize('name', ['swin2d_base_patch4_window7_kinetics400_1k',
                                  'swin2d_base_patch4_window7_sthv2'])
def test_2d_baseline_configs_build_the_per_frame_swin_and_train_its_head(name):
    cfg = Config.fromfile(osp.join(ROOT, f'configs/recognition/swin/{name}.py'))
    model = build_on_meta(cfg)
    assert model.backbone.patch_embed.proj.weight.shape == (128, 3, 4, 4)
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {
        'cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'}
    # Swin-B (86.7M without its ImageNet classifier) + the head
    head = 1024 * cfg.model.cls_head.num_classes + cfg.model.cls_head.num_classes
    assert abs((model.num_params - head) / 1e6 - 86.7) < 0.05
