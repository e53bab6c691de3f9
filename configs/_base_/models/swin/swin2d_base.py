# AIM's 2D Swin-B baseline: the ImageNet-21K Swin-B applied to every frame on its own (2D
# patches of 4x4, no temporal modelling); the I3D head averages over time.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='SwinTransformer2D',
        patch_size=4,
        num_frames=32,
        embed_dim=128,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        window_size=7,
        mlp_ratio=4.,
        qkv_bias=True,
        qk_scale=None,
        drop_rate=0.,
        attn_drop_rate=0.,
        drop_path_rate=0.2,
        patch_norm=True,
        frozen_stages=-1,
        pretrained='pretrained/swin_base_patch4_window7_224_22k.pth'),
    cls_head=dict(
        type='I3DHead',
        in_channels=1024,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob'),
    # AIM's tools/train.py rule, applied to every config it trains: no Swin parameter name
    # matches it, so only the head learns (the frozen space-only baseline). To fine-tune the
    # whole network: --cfg-options model.trainable_params=all
    trainable_params=['Adapter', 'temporal_embedding', 'ln_post', 'cls_head'])
