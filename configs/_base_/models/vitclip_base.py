# AIM with CLIP ViT-B/16 (Yang et al., ICLR 2023): a frozen image transformer with
# temporal, spatial and joint adapters. The model of AIM's vitclip_base.py; each config sets
# its drop path, adapter scale, frames and head.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ViT_CLIP',
        input_resolution=224,
        patch_size=16,
        num_frames=32,
        width=768,
        layers=12,
        heads=12,
        drop_path_rate=0.1,
        # 'openaiclip': OpenAI's file for the architecture (ViT-B-16.pt, ViT-L-14.pt) from
        # $AIM_CLIP_DIR or ~/.cache/clip; or a path. AIM's README passes the same value.
        pretrained='openaiclip'),
    cls_head=dict(
        type='I3DHead',
        in_channels=768,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob'),
    # AIM's tools/train.py: only parameters whose name contains one of these are trained
    trainable_params=['Adapter', 'temporal_embedding', 'ln_post', 'cls_head'])
