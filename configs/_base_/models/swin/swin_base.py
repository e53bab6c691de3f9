# Video Swin (Liu et al., CVPR 2022): 3D shifted windows. The model of AIM's swin_base.py
# (Swin-B over swin_tiny.py); the configs set patch, window and drop path, and the tiny and
# small ones the architecture.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='SwinTransformer3D',
        patch_size=(4, 4, 4),
        embed_dim=128,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        window_size=(8, 7, 7),
        mlp_ratio=4.,
        qkv_bias=True,
        qk_scale=None,
        drop_rate=0.,
        attn_drop_rate=0.,
        drop_path_rate=0.2,
        patch_norm=True),
    cls_head=dict(
        type='I3DHead',
        in_channels=1024,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob'),
    # AIM's tools/train.py rule, which it applies to these configs too: no Video Swin
    # parameter name matches it, so only the head learns. Video Swin's own recipe fine-tunes
    # everything: --cfg-options model.trainable_params=all
    trainable_params=['Adapter', 'temporal_embedding', 'ln_post', 'cls_head'])
