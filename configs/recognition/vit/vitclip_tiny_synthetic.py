# AIM on the built-in synthetic benchmark (tools/quickstart.py makes the data and the image
# model): an object moving left or right, wrapping around the frame edges; 2 classes that no
# single frame and no average of frames can tell apart (mmaction/synthetic/videos.py).
# The image model is a CLIP-shaped ViT (32 px input, 8 px patches, width 64, 4 blocks)
# pretrained on single frames (mmaction/synthetic/tiny_clip.py) and saved in OpenAI's layout.
_base_ = ['../../_base_/default_runtime.py']

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ViT_CLIP',
        input_resolution=32,
        patch_size=8,
        num_frames=8,
        width=64,
        layers=4,
        heads=4,
        drop_path_rate=0.0,
        num_tadapter=2,  # as AIM's SSv2 configs: the motion-only task
        adapter_scale=0.5,
        pretrained='data/synthetic/tiny_clip.pt'),
    cls_head=dict(
        type='I3DHead',
        in_channels=64,
        num_classes=2,
        spatial_type='avg',
        dropout_ratio=0.0),
    test_cfg=dict(average_clips='prob', max_testing_views=8))

dataset_type = 'VideoDataset'
ann_file_train = 'data/synthetic/train.txt'
ann_file_val = 'data/synthetic/val.txt'
ann_file_test = 'data/synthetic/val.txt'
videos = 'data/synthetic/videos'
img_norm_cfg = dict(mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0], to_bgr=False)
# a horizontal flip reverses the motion: right <-> left
flip_label_map = {0: 1, 1: 0}
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1, frame_uniform=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False, interpolation='area'),
    dict(type='Flip', flip_ratio=0.5, flip_label_map=flip_label_map),
    # colours say nothing about the class: jittering them stops the adapters from memorising
    # clips by their look instead of learning the motion
    dict(type='BrightnessContrastSaturationHueJitter', brightness=0.2, contrast=0.2,
         saturation=0.2, hue=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1, frame_uniform=True,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False, interpolation='area'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])
]
# multi-view test: 3 segment-sampled clips per video (8x1x3 views)
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSampleFrames', clip_len=8, num_clips=3, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False, interpolation='area'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])
]
data = dict(
    videos_per_gpu=16,
    workers_per_gpu=2,
    val_dataloader=dict(videos_per_gpu=32, workers_per_gpu=2),
    test_dataloader=dict(videos_per_gpu=16, workers_per_gpu=2),
    train=dict(type=dataset_type, ann_file=ann_file_train, data_prefix=videos,
               pipeline=train_pipeline),
    val=dict(type=dataset_type, ann_file=ann_file_val, data_prefix=videos,
             pipeline=val_pipeline),
    test=dict(type=dataset_type, ann_file=ann_file_test, data_prefix=videos,
              pipeline=test_pipeline))
evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'])

# AIM's optimiser. The temporal embedding is the only input of AIM's block that tells frames
# apart by time (attention across frames is permutation-equivariant), and it starts at zero:
# a 30x learning rate lets it grow within this short schedule.
optimizer = dict(
    type='AdamW',
    lr=2e-3,
    betas=(0.9, 0.999),
    weight_decay=0.05,
    paramwise_cfg=dict(
        custom_keys={
            'class_embedding': dict(decay_mult=0.),
            'positional_embedding': dict(decay_mult=0.),
            'temporal_embedding': dict(decay_mult=0., lr_mult=30.),
            'ln_1': dict(decay_mult=0.),
            'ln_2': dict(decay_mult=0.),
            'ln_pre': dict(decay_mult=0.),
            'ln_post': dict(decay_mult=0.),
        }))
optimizer_config = dict(grad_clip=None, update_interval=1, use_fp16=False)
lr_config = dict(
    policy='CosineAnnealing',
    min_lr=0,
    warmup='linear',
    warmup_by_epoch=True,
    warmup_iters=1,
    by_epoch=False)
total_epochs = 5

checkpoint_config = dict(interval=5)
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])
work_dir = './work_dirs/vitclip_tiny_synthetic'
find_unused_parameters = False
