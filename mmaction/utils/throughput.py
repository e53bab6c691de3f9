"""Clips per second, peak memory and model-FLOPs utilisation of a recognizer's training or
inference step on random clips (``tools/analysis/benchmark.py``, ``gpu_check.py``).

Inputs are float clips of the model's input shape, already normalised (decoding is measured
by ``bench_processing.py``); weights may be random: speed does not depend on them.
"""
import resource
import time
from typing import Optional

import torch
from torch import nn

from mmaction.structures import ActionDataSample
from .complexity import count_macs

#: Dense peak TFLOP/s by device-name fragment (vendor datasheets, SXM parts): bf16 and fp16
#: tensor cores, TF32, plain fp32.
PEAK_TFLOPS = {
    'H200': dict(bf16=989.4, fp16=989.4, tf32=494.7, fp32=66.9),
    'H100': dict(bf16=989.4, fp16=989.4, tf32=494.7, fp32=66.9),
    'A100': dict(bf16=312.0, fp16=312.0, tf32=156.0, fp32=19.5),
    'L40S': dict(bf16=362.0, fp16=362.0, tf32=183.0, fp32=91.6),
    'RTX 4090': dict(bf16=165.2, fp16=165.2, tf32=82.6, fp32=82.6),
    'V100': dict(fp16=125.0, fp32=15.7),
}
DTYPES = dict(fp32=torch.float32, fp16=torch.float16, bf16=torch.bfloat16)


def device_peak_tflops(device_name: str, precision: str = 'bf16') -> Optional[float]:
    """The datasheet peak of ``precision`` for a device name, ``None`` when unknown."""
    for fragment, peaks in PEAK_TFLOPS.items():
        if fragment in device_name:
            return peaks.get(precision)
    return None


def set_attention(model: nn.Module, impl: str) -> None:
    """Switch the backbone's attention to ``'sdpa'`` or ``'math'`` (the explicit softmax AIM's
    torch 1.10 computed), where the backbone offers both (ViT_CLIP)."""
    backbone = getattr(model, 'backbone', model)
    switch = getattr(backbone, 'set_attention_impl', None)
    if switch is not None:
        switch(impl)
    elif impl != 'sdpa':
        raise ValueError(f"{type(backbone).__name__} has one attention implementation; "
                         f"attn_impl={impl!r} applies to ViT_CLIP only")


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def measure(model: nn.Module, *, mode: str, batch: int, frames: int, size: int,
            precision: str, device, warmup: int = 2, iters: int = 5, fused: bool = False,
            count_flops: bool = True) -> dict:
    """Time ``iters`` steps of ``model`` after ``warmup`` ones.

    ``mode='train'``: forward + loss + backward + AdamW step of the trainable parameters
    (fp16: with a ``GradScaler``; ``fused``: fused AdamW); ``'infer'``: forward without
    gradient. Returns clips/s, seconds per step, the first step's seconds (compilation shows
    there), peak memory (CUDA: ``max_memory_allocated`` over these steps; CPU: the process's
    peak resident memory) and, with ``count_flops``, the FLOPs of one step as torch's flop
    counter counts the ops that ran (matrix products and convolutions; frozen weights get no
    weight gradients; recomputation under ``with_cp`` counted).
    """
    device = torch.device(device)
    train = mode == 'train'
    inputs = torch.randn(batch, 1, 3, frames, size, size, device=device)
    num_classes = model.cls_head.num_classes
    samples = [ActionDataSample().set_gt_label(i % num_classes) for i in range(batch)]
    autocast = dict(device_type=device.type, dtype=DTYPES[precision],
                    enabled=precision != 'fp32')
    model.train(train)
    if train:
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=1e-4, fused=True) if fused else \
            torch.optim.AdamW(params, lr=1e-4)
        scaler = torch.amp.GradScaler(device.type, enabled=precision == 'fp16')

    def step():
        if train:
            with torch.autocast(**autocast):
                loss = model(inputs, samples, mode='loss')['loss_cls']
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
        else:
            with torch.no_grad(), torch.autocast(**autocast):
                model(inputs, mode='tensor')

    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    step()
    _sync(device)
    first = time.perf_counter() - start
    for _ in range(warmup - 1):
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        step()
    _sync(device)
    seconds = (time.perf_counter() - start) / iters
    result = dict(clips_per_s=batch / seconds, s_per_step=seconds, first_step_s=first)
    if device.type == 'cuda':
        result['peak_mem_mib'] = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        result['peak_mem_mib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if count_flops:
        macs, _ = count_macs(step)
        result['flops_per_step'] = 2 * macs
    return result


def utilisation(result: dict, peak_tflops: Optional[float]) -> dict:
    """Achieved TFLOP/s and MFU (over ``peak_tflops``) of a :func:`measure` result."""
    flops = result.get('flops_per_step')
    if not flops:
        return {}
    achieved = flops / result['s_per_step'] / 1e12
    out = dict(tflops_per_s=achieved)
    if peak_tflops:
        out['mfu'] = achieved / peak_tflops
    return out
