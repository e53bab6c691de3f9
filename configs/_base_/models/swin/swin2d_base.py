# The 2D Swin-B baseline of AIM's Swin study: the same ImageNet-21K Swin-B and 2x4x4 patch
# embedding as AIM-Swin, each temporal token processed on its own (no temporal modelling),
# features averaged over time by the head. Fully fine-tuned by default; for the frozen
# variant train only the final norm and the head:
#   --cfg-options "model.trainable_params=['^backbone\.norm\.','cls_head']"
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='SwinTransformer2D',
        patch_size=(2, 4, 4),
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
        pretrained='pretrained/swin_base_patch4_window7_224_22k.pth'),
    cls_head=dict(
        type='I3DHead',
        in_channels=1024,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob', max_testing_views=4),
    trainable_params='all')
