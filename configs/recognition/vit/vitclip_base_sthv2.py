_base_ = ['../../_base_/models/vitclip_base.py', '../../_base_/default_runtime.py']

# model settings: SSv2 adds a second temporal adapter (T_Adapter_in) and label smoothing
model = dict(
    backbone=dict(drop_path_rate=0.2, adapter_scale=0.5, num_frames=8, num_tadapter=2),
    cls_head=dict(num_classes=174),
    train_cfg=dict(blending=dict(type='LabelSmoothing', num_classes=174, smoothing=0.1)),
    test_cfg=dict(max_testing_views=4))

# dataset settings
dataset_type = 'VideoDataset'
data_root = 'data/sthv2/videos'
data_root_val = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'
ann_file_test = 'data/sthv2/sthv2_val_list_videos.txt'
img_norm_cfg = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)
# left/right classes swap under a horizontal flip: pulling (86, 87), pushing (93, 94) and
# turning the camera (166, 167) something from left to right / right to left
flip_label_map = {86: 87, 87: 86, 93: 94, 94: 93, 166: 167, 167: 166}
# PyAV decodes the same pixels as AIM's DecordInit/DecordDecode (which work here too) at
# 1.5x the clips/s per data-loader worker: docs/data.md, "Decoders".
train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1, frame_uniform=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, flip_label_map=flip_label_map),
    dict(type='Imgaug', transforms=[dict(type='RandAugment', n=4, m=7)]),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='RandomErasing', probability=0.25),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])
]
val_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1, frame_uniform=True,
         test_mode=True),
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
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1, frame_uniform=True,
         test_mode=True),
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
evaluation = dict(interval=3, metrics=['top_k_accuracy', 'mean_class_accuracy'])

# optimizer
optimizer = dict(
    type='AdamW',
    lr=3e-4,
    betas=(0.9, 0.999),
    weight_decay=0.05,
    paramwise_cfg=dict(
        custom_keys={
            'class_embedding': dict(decay_mult=0.),
            'positional_embedding': dict(decay_mult=0.),
            'temporal_embedding': dict(decay_mult=0.),
            'ln_1': dict(decay_mult=0.),
            'ln_2': dict(decay_mult=0.),
            'ln_pre': dict(decay_mult=0.),
            'ln_post': dict(decay_mult=0.),
        }))
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

# runtime settings
checkpoint_config = dict(interval=1)
work_dir = './work_dirs/vitclip_base_sthv2'
find_unused_parameters = False
