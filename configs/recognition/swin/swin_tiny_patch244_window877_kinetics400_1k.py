_base_ = ['./swin_base_patch244_window877_kinetics400_1k.py']

# Video Swin-T on Kinetics-400: the Swin-B recipe with the tiny architecture, started from the
# ImageNet-1K Swin-T by inflation and fully fine-tuned (a baseline of AIM's Table 6).
model = dict(
    backbone=dict(
        embed_dim=96,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        drop_path_rate=0.1,
        # https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_tiny_patch4_window7_224.pth
        pretrained='pretrained/swin_tiny_patch4_window7_224.pth'),
    cls_head=dict(in_channels=768))
work_dir = './work_dirs/swin_tiny_patch244_window877_kinetics400_1k'
