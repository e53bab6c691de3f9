# AIM-Swin-B (Yang et al., ICLR 2023): an ImageNet-21K Swin-B, frozen, applied to the temporal
# tokens of a clip (patch 2x4x4: two frames per token) with temporal, spatial and joint
# adapters. 95.5M parameters, 8.8M of them in adapters.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='SwinTransformer2D_Adapter',
        patch_size=(2, 4, 4),
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
        # Microsoft's ImageNet-21K Swin-B ({'model': ...}); download it from
        # https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_base_patch4_window7_224_22k.pth
        pretrained='pretrained/swin_base_patch4_window7_224_22k.pth'),
    cls_head=dict(
        type='I3DHead',
        in_channels=1024,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob'),
    # AIM's tools/train.py rule: the adapters and the head are trained. The temporal
    # relative-position tables (temporal_position_bias_table) stay at their random initial
    # values, and the final norm stays ImageNet's; to train them as well:
    #   --cfg-options "model.trainable_params=['Adapter','temporal_position_bias_table',
    #                  '^backbone\.norm\.','cls_head']"
    trainable_params=['Adapter', 'temporal_embedding', 'ln_post', 'cls_head'])
