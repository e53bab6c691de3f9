# Ablation (the paper's component study, on the synthetic benchmark): the frozen space-only
# baseline. The image model runs frame by frame, its class tokens are averaged over time,
# and only ln_post and the head are trained (AIM's rule finds no adapters to train).
_base_ = ['./vitclip_tiny_synthetic.py']
model = dict(backbone=dict(adaptation=[]))
work_dir = './work_dirs/vitclip_tiny_synthetic_space_only'
