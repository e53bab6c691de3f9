# Ablation: + spatial adaptation (S_Adapter after each block's attention); still frame by
# frame, so no temporal information.
_base_ = ['./vitclip_tiny_synthetic.py']
model = dict(backbone=dict(adaptation=['spatial']))
work_dir = './work_dirs/vitclip_tiny_synthetic_spatial'
