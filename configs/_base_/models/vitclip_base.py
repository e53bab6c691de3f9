# AIM with CLIP ViT-B/16 (Yang et al., ICLR 2023): a frozen image transformer with
# temporal, spatial and joint adapters; only adapters, temporal_embedding, ln_post and the
# head are trained (model.trainable_params, AIM's rule by default).
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ViT_CLIP',
        input_resolution=224,
        patch_size=16,
        num_frames=8,
        width=768,
        layers=12,
        heads=12,
        drop_path_rate=0.1,
        num_tadapter=1,
        adapter_scale=0.5,
        # 'openaiclip': OpenAI's ViT-B-16.pt from $AIM_CLIP_DIR or ~/.cache/clip; or a path.
        pretrained='openaiclip'),
    cls_head=dict(
        type='I3DHead',
        in_channels=768,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob', max_testing_views=4))
