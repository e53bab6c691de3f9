_base_ = ['./vitclip_base_sthv2.py']

model = dict(
    backbone=dict(patch_size=14, width=1024, layers=24, heads=16, drop_path_rate=0.2),
    cls_head=dict(in_channels=1024))
work_dir = './work_dirs/vitclip_large_sthv2'
