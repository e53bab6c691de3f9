# Ablation: + temporal adaptation (the frozen attention reused across frames, T_Adapter_in /
# T_Adapter, temporal_embedding) on top of the spatial adaptation; no joint adapter.
_base_ = ['./vitclip_tiny_synthetic.py']
model = dict(backbone=dict(adaptation=['temporal', 'spatial']))
work_dir = './work_dirs/vitclip_tiny_synthetic_temporal'
