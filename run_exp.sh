#!/usr/bin/env bash
# AIM's experiment script: 8 GPUs, 8 videos per GPU (batch 64), validation during training,
# test of the final model. Change CONFIG to train another model, e.g.
#   configs/recognition/vit/vitclip_large_k400.py, vitclip_base_sthv2.py, vitclip_base_diving48.py
# One GPU, same recipe: see docs/single_gpu.md.
CONFIG=${CONFIG:-configs/recognition/vit/vitclip_base_k400.py}
GPUS=${GPUS:-8}
NAME=$(basename "$CONFIG" .py)

bash tools/dist_train.sh "$CONFIG" "$GPUS" --test-last --validate \
    --cfg-options model.backbone.pretrained=openaiclip work_dir=work_dirs_vit/"$NAME" "$@"
