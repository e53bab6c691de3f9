"""Activation memory (bytes autograd keeps for the backward pass) of ViT_CLIP against AIM's
official module (tools/analysis/aim_reference.py), with_cp False / 'selective' / True.

    python tools/analysis/memory_compare.py --arch B/16 --clips 1
    python tools/analysis/memory_compare.py --arch L/14 --clips 1

Counted exactly on fake tensors (mmaction.utils.memory): the forward pass and loss run
without computing or allocating, and every tensor autograd saves is counted once by its
storage, parameters left out. AIM's training rule (adapters, temporal_embedding, ln_post
trainable), drop_path 0.1, 8x224 clips. Prints a Markdown table.
"""
import argparse
import sys

import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from mmaction.models.backbones.vit_clip import ViT_CLIP
from mmaction.models.trainable import apply_trainable_policy
from mmaction.utils.cli import add_debug_argument, run_tool
from mmaction.utils.memory import SavedTensors, model_tensors, to_fake
from tools.analysis.aim_reference import official_like

ARCHS = {'B/16': dict(), 'L/14': dict(width=1024, layers=24, heads=16, patch_size=14)}
PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def saved_bytes(model, clip, dtype):
    with SavedTensors(model_tensors(model)) as saved:
        with torch.autocast('cpu', dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            out = model(clip)
            out.float().square().mean()
    return saved.bytes


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--arch', choices=sorted(ARCHS), default='B/16')
    p.add_argument('--clips', type=int, default=1)
    p.add_argument('--frames', type=int, default=8)
    p.add_argument('--precision', nargs='+', default=['fp32', 'bf16', 'fp16'],
                   choices=sorted(PRECISIONS))
    add_debug_argument(p)
    args = p.parse_args(argv)
    model = ViT_CLIP(num_frames=args.frames, drop_path_rate=0.1, **ARCHS[args.arch]).train()
    apply_trainable_policy(model, log=False)
    official = official_like(model)
    mode = FakeTensorMode()
    to_fake(model, mode)
    to_fake(official, mode)
    rows = []
    print(f'| ViT-{args.arch}, {args.clips} clip(s) {args.frames}x224 | official AIM module '
          "| ours | ours with_cp='selective' | ours with_cp=True |\n|---|---:|---:|---:|---:|")
    with mode:
        clip = torch.randn(args.clips, 3, args.frames, 224, 224)
        for name in args.precision:
            dtype = PRECISIONS[name]
            ref = saved_bytes(official, clip, dtype)
            ours = {}
            for cp in (False, 'selective', True):
                model.with_cp = cp
                ours[cp] = saved_bytes(model, clip, dtype)
            cells = ' | '.join(f'{ours[cp] / 2**20:.0f} MiB ({ours[cp] / ref:.3f}x)'
                               for cp in (False, 'selective', True))
            print(f'| {name}{" autocast" if dtype else ""} | {ref / 2**20:.0f} MiB | {cells} |',
                  flush=True)
            rows.append(dict(precision=name, official=ref, **{str(k): v for k, v in ours.items()}))
    return rows


if __name__ == '__main__':
    sys.exit(run_tool(main))
