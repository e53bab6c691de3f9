"""Parameter and multiply-accumulate counts, with torch's own flop counter."""
from typing import Dict, Tuple

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count


def _cpu_sdpa(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)


def _cpu_sdpa_backward(grad_out, query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out, query, key, value)


# torch's counter knows the CUDA attention kernels, not the CPU one that
# F.scaled_dot_product_attention runs on real CPU tensors: count it with the same formulas
_CPU_ATTENTION = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa,
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_sdpa_backward,
}


def count_parameters(model: nn.Module) -> Tuple[int, int]:
    """(total, trainable) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def count_macs(fn, *args, **kwargs) -> Tuple[int, Dict[str, int]]:
    """Multiply-accumulates of ``fn(*args, **kwargs)``, in total and per aten op.

    torch's counter reports FLOPs of matrix products and convolutions (2 per
    multiply-accumulate) and skips element-wise ops (norms, activations, softmax, residual
    adds); we halve it to give multiply-accumulates, the unit of AIM's tables. Works on the
    ``meta`` device, so full-size models are counted without allocating them.
    """
    with FlopCounterMode(display=False, custom_mapping=_CPU_ATTENTION) as counter:
        fn(*args, **kwargs)
    per_op = {str(op): n // 2 for op, n in counter.get_flop_counts()['Global'].items()}
    return counter.get_total_flops() // 2, per_op


def clip_len_of(cfg, default: int = 8) -> int:
    """Frames per view a config feeds its model: ``model.backbone.num_frames`` where the
    backbone has one (ViT_CLIP, AIM-Swin), else the ``clip_len`` of the test (or val, train)
    pipeline's ``SampleFrames`` (Video Swin, the 2D Swin), else ``default``."""
    frames = cfg.model.backbone.get('num_frames')
    if frames:
        return frames
    data = cfg.get('data') or {}
    for split in ('test', 'val', 'train'):
        pipeline = ((data.get(split) or {}).get('pipeline')
                    or ((cfg.get(f'{split}_dataloader') or {}).get('dataset') or {}).get('pipeline')
                    or cfg.get(f'{split}_pipeline') or [])
        for step in pipeline:
            if step.get('type') == 'SampleFrames' and step.get('clip_len'):
                return step['clip_len']
    return default
