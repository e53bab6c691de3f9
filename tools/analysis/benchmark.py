"""Training-step and inference throughput (clips/s) and peak memory of a config's model.

    # CPU, ViT-B/16 8x224: SDPA against the plain explicit-softmax attention, same run
    python tools/analysis/benchmark.py configs/recognition/vit/vitclip_base_k400.py \
        --attn-impl sdpa math --mode train infer --batch 1 --iters 3
    # GPU: precisions, gradient checkpointing and torch.compile
    python tools/analysis/benchmark.py CONFIG --device cuda --batch 8 \
        --precision fp32 bf16 fp16 --with-cp 0 1 --compile 0 1

Every combination runs in a fresh process, so peak memory belongs to that combination alone:
on CUDA ``torch.cuda.max_memory_allocated``; on CPU the process's peak resident memory, and
the part of it above what the model and inputs hold before the first step (activations,
gradients, optimizer state, workspace). Inputs are random float clips of the config's shape
(decoding is measured by ``bench_processing.py``); weights are random (speed does not depend
on them). Model FLOPs utilisation (MFU) is printed on GPUs whose peak is known or given.
"""
import argparse
import itertools
import json
import multiprocessing as mp
import resource
import sys

from mmaction.engine.launch import add_debug_argument, run_tool


def _with_cp(text):
    values = {'0': False, '1': True, 'selective': 'selective'}
    if text not in values:
        raise argparse.ArgumentTypeError(f"--with-cp takes 0, 1 or selective; got {text!r}")
    return values[text]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('--device', default='cpu', help='cpu or cuda')
    p.add_argument('--mode', nargs='+', default=['train', 'infer'], choices=['train', 'infer'])
    p.add_argument('--precision', nargs='+', default=['fp32'], choices=['fp32', 'fp16', 'bf16'])
    p.add_argument('--attn-impl', nargs='+', default=['sdpa'], choices=['sdpa', 'math'],
                   help="ViT_CLIP attention: 'sdpa' (ours) or 'math' (explicit softmax, as "
                   'nn.MultiheadAttention computed it in torch 1.10)')
    p.add_argument('--with-cp', nargs='+', type=_with_cp, default=[False],
                   help="0, 1 or selective (model.backbone.with_cp)")
    p.add_argument('--compile', nargs='+', type=int, default=[0], choices=[0, 1])
    p.add_argument('--batch', type=int, default=1, help='clips per step')
    p.add_argument('--frames', type=int,
                   help='clip length (default: backbone num_frames, else the test clip_len)')
    p.add_argument('--size', type=int, default=224, help='frame side')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--iters', type=int, default=3)
    p.add_argument('--peak-tflops', type=float, help='device peak for MFU (default: known GPUs)')
    p.add_argument('--tf32', action='store_true', help='allow TF32 matmuls for fp32 on CUDA')
    p.add_argument('--out', help='also write the results as JSON here')
    add_debug_argument(p)
    return p.parse_args(argv)


def build(config, attn_impl, with_cp, device, frames=None):
    """The config's model with random weights, sized for ``frames`` where its backbone has a
    ``num_frames``, on ``device``; and the config."""
    from mmengine.config import Config

    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    backbone = cfg.model.backbone
    backbone.pretrained = None  # random weights: speed does not depend on them
    if frames and 'num_frames' in backbone:
        backbone.num_frames = frames
    if backbone.get('type') == 'ViT_CLIP':
        backbone.attn_impl = attn_impl
    elif attn_impl != 'sdpa':
        raise SystemExit(f"--attn-impl {attn_impl} applies to ViT_CLIP only")
    backbone.with_cp = with_cp
    return MODELS.build(cfg.model).to(device), cfg


def run_one(job, queue):
    import torch

    from mmaction.utils.complexity import clip_len_of
    from mmaction.utils.throughput import device_peak_tflops, measure, utilisation

    device = torch.device(job['device'])
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = job['tf32']
        torch.backends.cudnn.allow_tf32 = job['tf32']
    torch.manual_seed(0)
    model, cfg = build(job['config'], job['attn_impl'], job['with_cp'], device, job['frames'])
    frames = job['frames'] or clip_len_of(cfg)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB
    flops = None
    if job['compile']:  # the flop counter sees the eager model's ops only
        flops = measure(model, mode=job['mode'], batch=job['batch'], frames=frames,
                        size=job['size'], precision=job['precision'], device=device,
                        warmup=1, iters=1)['flops_per_step']
        model.backbone.compile()
    result = measure(model, mode=job['mode'], batch=job['batch'], frames=frames,
                     size=job['size'], precision=job['precision'], device=device,
                     warmup=job['warmup'], iters=job['iters'], count_flops=not flops)
    if flops:
        result['flops_per_step'] = flops
    result = dict(job, **result)
    if device.type == 'cuda':
        result['device_name'] = torch.cuda.get_device_name()
    else:
        result['peak_above_model_mib'] = result['peak_mem_mib'] - rss_before
        result['device_name'] = f'CPU x{torch.get_num_threads()} threads'
    peak = job['peak_tflops']
    if peak is None and device.type == 'cuda':
        key = 'tf32' if (job['precision'] == 'fp32' and job['tf32']) else job['precision']
        peak = device_peak_tflops(result['device_name'], key)
    result.update(utilisation(result, peak))
    queue.put(result)


def main(argv=None):
    args = parse_args(argv)
    from mmaction.engine.config import read_config
    read_config(args.config)  # a missing or broken config: one message, before any job
    ctx = mp.get_context('spawn')
    results = []
    for mode, precision, impl, cp, comp in itertools.product(
            args.mode, args.precision, args.attn_impl, args.with_cp, args.compile):
        if mode == 'infer' and cp:
            continue  # checkpointing only changes the backward pass
        job = dict(config=args.config, device=args.device, mode=mode, precision=precision,
                   attn_impl=impl, with_cp=cp, compile=comp, batch=args.batch,
                   frames=args.frames, size=args.size, warmup=args.warmup, iters=args.iters,
                   peak_tflops=args.peak_tflops, tf32=args.tf32)
        queue = ctx.Queue()
        proc = ctx.Process(target=run_one, args=(job, queue))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            print(f'FAILED (exit {proc.exitcode}): {job}')
            continue
        res = queue.get()
        results.append(res)
        extra = f"  MFU {100 * res['mfu']:.1f}%" if res.get('mfu') else ''
        print(f"{mode:5s} {precision:4s} attn={impl:4s} cp={cp} compile={comp}  "
              f"{res['clips_per_s']:8.3f} clips/s  peak {res['peak_mem_mib']:9.0f} MiB"
              + (f" (+{res['peak_above_model_mib']:.0f} over model)"
                 if 'peak_above_model_mib' in res else '') + extra, flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == '__main__':
    sys.exit(run_tool(main))
