_base_ = ['../../_base_/models/vitclip_base.py', '../../_base_/default_runtime.py']

# The TimeSformer baseline AIM compares against (divided space-time attention on CLIP
# ViT-B/16), Kinetics-400: 8 frames 16 apart; tested on 3 clips x 1 centre crop. AIM's file
# reads the annotation list train_video_list_10.txt.
model = dict(
    backbone=dict(type='TimeSformer', drop_path_rate=0.1, adapter_scale=0.5, num_frames=8),
    cls_head=dict(num_classes=400),
    test_cfg=dict(max_testing_views=4))

# dataset settings: AIM's folders and annotation lists
dataset_type = 'VideoDataset'
data_root = 'data/kinetics400/train_256'
data_root_val = 'data/kinetics400/val_256'
ann_file_train = 'data/kinetics400/train_video_list_10.txt'
ann_file_val = 'data/kinetics400/val_video_list.txt'
ann_file_test = 'data/kinetics400/val_video_list.txt'
img_norm_cfg = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)
# PyAV decodes the same pixels as AIM's DecordInit/DecordDecode (which work here too) at
# 1.5x the clips/s per data-loader worker: docs/data.md, "Decoders".
train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=16, num_clips=1),
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
    dict(type='SampleFrames', clip_len=8, frame_interval=16, num_clips=1, test_mode=True),
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
    dict(type='SampleFrames', clip_len=8, frame_interval=16, num_clips=3, test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='Flip', flip_ratio=0),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])
]
data = dict(
    videos_per_gpu=8,
    workers_per_gpu=2,
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

# optimizer: no weight decay on the embeddings and norms. (Only the longest custom key a parameter
# name contains applies, as in mmcv.)
optimizer = dict(
    type='AdamW',
    lr=3e-4,
    betas=(0.9, 0.999),
    weight_decay=5e-6,
    paramwise_cfg=dict(
        custom_keys={
            'class_embedding': dict(decay_mult=0.),
            'positional_embedding': dict(decay_mult=0.),
            'ln_1': dict(decay_mult=0.),
            'ln_2': dict(decay_mult=0.),
            'ln_pre': dict(decay_mult=0.),
            'ln_post': dict(decay_mult=0.),
        }))
# update_interval accumulates gradients; use_fp16 selects native mixed precision (no apex).
optimizer_config = dict(
    type='DistOptimizerHook',
    update_interval=1,
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
checkpoint_config = dict(interval=10)
work_dir = './work_dirs/sthv2_swin_base_patch244_window1677.py'
find_unused_parameters = False
