# Reference: the full AIM model with every parameter trained (the image model too), same
# schedule. Compare its accuracy and tunable parameters with vitclip_tiny_synthetic.py.
_base_ = ['./vitclip_tiny_synthetic.py']
model = dict(trainable_params='all')
work_dir = './work_dirs/vitclip_tiny_synthetic_finetune'
