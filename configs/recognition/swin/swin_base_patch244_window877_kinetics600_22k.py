_base_ = ['../../_base_/models/swin/swin_base.py', '../../_base_/default_runtime.py']

# Video Swin-B on Kinetics-600 from the ImageNet-22K Swin-B: 32 frames 2 apart; tested on
# 4 clips x 3 crops.
model = dict(
    backbone=dict(
        patch_size=(2, 4, 4),
        window_size=(8, 7, 7),
        drop_path_rate=0.2,
        pretrained='pretrained/swin_base_patch4_window7_224_22k.pth'),
    cls_head=dict(num_classes=600),
    test_cfg=dict(max_testing_views=2))

# dataset settings: AIM's folders and annotation lists
dataset_type = 'VideoDataset'
data_root = 'data/kinetics600/train'
data_root_val = 'data/kinetics600/val'
ann_file_train = 'data/kinetics600/kinetics600_train_list.txt'
ann_file_val = 'data/kinetics600/kinetics600_val_list.txt'
ann_file_test = 'data/kinetics600/kinetics600_val_list.txt'
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)
# PyAV decodes the same pixels as AIM's DecordInit/DecordDecode (which work here too) at
# 1.5x the clips/s per data-loader worker: docs/data.md, "Decoders".
train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=1),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])
]
val_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='Flip', flip_ratio=0),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])
]
test_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=4, test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='Flip', flip_ratio=0),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])
]
data = dict(
    videos_per_gpu=8,
    workers_per_gpu=4,
    val_dataloader=dict(videos_per_gpu=1, workers_per_gpu=1),
    test_dataloader=dict(videos_per_gpu=1, workers_per_gpu=1),
    train=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=data_root,
        pipeline=train_pipeline),
    val=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=data_root_val,
        pipeline=val_pipeline),
    test=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=data_root_val,
        pipeline=test_pipeline))
evaluation = dict(interval=5, metrics=['top_k_accuracy', 'mean_class_accuracy'])

# optimizer: Video Swin's keys. Only the longest custom key a parameter name contains
# applies (as in mmcv), so 'backbone' (lr_mult 0.1) outranks 'norm' and 'absolute_pos_embed'
# (no such parameter here) is inert.
optimizer = dict(
    type='AdamW',
    lr=3e-4,
    betas=(0.9, 0.999),
    weight_decay=0.05,
    paramwise_cfg=dict(
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.),
            'backbone': dict(lr_mult=0.1),
        }))
# update_interval accumulates gradients; use_fp16 selects native mixed precision (no apex).
optimizer_config = dict(
    type='DistOptimizerHook',
    update_interval=8,
    grad_clip=None,
    coalesce=True,
    bucket_size_mb=-1,
    use_fp16=True)
fp16 = None

# learning policy
lr_config = dict(
    policy='CosineAnnealing',
    min_lr=0,
    warmup='linear',
    warmup_by_epoch=True,
    warmup_iters=2.5)
total_epochs = 30

# runtime settings. work_dir is AIM's value, which several of its configs share: give each
# run its own (work_dir=... in --cfg-options, as AIM's README does, or --work-dir).
checkpoint_config = dict(interval=1)
work_dir = './work_dirs/k400_swin_base_22k_patch244_window877.py'
find_unused_parameters = False
