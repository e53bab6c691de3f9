# AIM on an ImageNet-21K ViT-B/16 (ViT_ImageNet): the same adapters in timm's ViT layout.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ViT_ImageNet',
        img_size=224,
        patch_size=16,
        num_frames=8,
        embed_dim=768,
        depth=12,
        num_heads=12,
        drop_path_rate=0.1,
        # the file AIM's code reads: timm's ImageNet-21K ViT-B/16 fine-tuned on ImageNet-1K at
        # 224 (jx_vit_base_p16_224-80ecf9dd.pth). Google's ViT-B_16.npz files load too.
        pretrained='checkpoints/jx_vit_base_p16_224-80ecf9dd.pth'),
    cls_head=dict(
        type='I3DHead',
        in_channels=768,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob'),
    # AIM's tools/train.py: only parameters whose name contains one of these are trained
    trainable_params=['Adapter', 'temporal_embedding', 'ln_post', 'cls_head'])
