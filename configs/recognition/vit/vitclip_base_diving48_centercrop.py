# The paper's Diving-48 32x1x1 row (ViT-B/16): AIM's vitclip_base_diving48.py tested on one
# view, 1 clip x 1 centre crop, as the paper's table says (AIM's file tests 3 crops).
_base_ = ['./vitclip_base_diving48.py']

img_norm_cfg = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)
test_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=32, frame_interval=16, num_clips=1, frame_uniform=True,
         test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='Flip', flip_ratio=0),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])
]
data = dict(test=dict(pipeline=test_pipeline))
