# Reference: the full AIM model with every parameter trained (the image model too), same
# schedule. Compare its accuracy and tunable parameters with vitclip_tiny_synthetic.py.
# The pretrained image-model weights learn 10x slower than the new parts, the usual
# fine-tuning practice; at the full rate they drift before the temporal path wakes up.
_base_ = ['./vitclip_tiny_synthetic.py']
model = dict(trainable_params='all')
_pretrained = dict(lr_mult=0.1)
_pretrained_no_decay = dict(lr_mult=0.1, decay_mult=0.)
optimizer = dict(
    paramwise_cfg=dict(
        custom_keys={
            'class_embedding': _pretrained_no_decay,
            'positional_embedding': _pretrained_no_decay,
            'ln_1': _pretrained_no_decay,
            'ln_2': _pretrained_no_decay,
            'ln_pre': _pretrained_no_decay,
            'conv1': _pretrained,
            'attn.': _pretrained,
            'mlp.': _pretrained,
        }))
work_dir = './work_dirs/vitclip_tiny_synthetic_finetune'
