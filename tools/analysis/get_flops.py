"""Parameters, tunable parameters and GFLOPs (multiply-accumulates) per view of a config.

    python tools/analysis/get_flops.py configs/recognition/vit/vitclip_base_k400.py
    python tools/analysis/get_flops.py CONFIG --shape 16 224 224      # T H W
    python tools/analysis/get_flops.py CONFIG --shape 1 3 32 224 224  # N C T H W

The model is built on the ``meta`` device (no memory, no weights needed) and one view is run
under torch's flop counter. See docs/benchmarks.md for how these compare with the paper.
"""
import argparse
import sys

import torch
from mmengine.config import DictAction

from mmaction.engine import load_config
from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmaction.utils.complexity import clip_len_of, count_macs, count_parameters

# AIM's tables (Kinetics-400, 3 views): GFLOPs of all views, params (M), tunable (M).
PAPER = {
    ('ViT-B/16', 8): (606, 97, 11),
    ('ViT-B/16', 16): (1214, 97, 11),
    ('ViT-B/16', 32): (2428, 97, 11),
    ('ViT-L/14', 8): (2902, 341, 38),
    ('ViT-L/14', 16): (5604, 341, 38),
    ('ViT-L/14', 32): (11208, 341, 38),
}
PAPER_VIEWS = 3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs='+',
                        help='input of one view: H W, T H W, C T H W or N C T H W '
                        '(default: 3 x num_frames (or the test clip_len) x '
                        'input_resolution^2 from the config)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    add_debug_argument(parser)
    return parser.parse_args(argv)


def view_shape(cfg, shape):
    backbone = cfg.model.backbone
    frames = clip_len_of(cfg)
    side = backbone.get('input_resolution', 224)
    if not shape:
        return (1, 3, frames, side, side)
    shape = tuple(shape)
    if len(shape) == 2:
        return (1, 3, frames) + shape
    if len(shape) == 3:
        return (1, 3) + shape
    if len(shape) == 4:
        return (1, ) + shape
    if len(shape) == 5:
        return shape
    raise SystemExit(f'--shape takes 2 to 5 integers (H W | T H W | C T H W | N C T H W); '
                     f'got {len(shape)}: {shape}')


def arch_name(backbone):
    if backbone.get('type') != 'ViT_CLIP':
        return None
    key = (backbone.get('width'), backbone.get('patch_size'))
    return {(768, 16): 'ViT-B/16', (1024, 14): 'ViT-L/14'}.get(key)


def measure(cfg, shape=None):
    """Parameters, tunable parameters and multiply-accumulates per view of ``cfg``'s model,
    built on the ``meta`` device; ``shape`` as ``--shape`` takes it."""
    register_all_modules()
    shape = view_shape(cfg, shape)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
        clip = torch.empty(shape)
    model.eval()
    total, tunable = count_parameters(model)
    with torch.no_grad():
        macs, per_op = count_macs(lambda x: model(x, mode='tensor'), clip)
    return dict(shape=shape, params=total, tunable=tunable, macs_per_view=macs / shape[0],
                per_op=per_op)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    counts = measure(cfg, args.shape)
    shape, total, tunable = counts['shape'], counts['params'], counts['tunable']
    macs_per_view, per_op = counts['macs_per_view'], counts['per_op']

    print(f'Config: {args.config}')
    print(f'Input per view: {tuple(shape[1:])}')
    print(f'Params: {total / 1e6:.2f} M   Tunable: {tunable / 1e6:.2f} M')
    print(f'GFLOPs per view (multiply-accumulates): {macs_per_view / 1e9:.2f}')
    for op, n in sorted(per_op.items(), key=lambda kv: -kv[1]):
        print(f'    {op:<28s} {n / shape[0] / 1e9:9.2f}')
    arch = arch_name(cfg.model.backbone)
    paper = PAPER.get((arch, shape[2])) if len(shape) == 5 else None
    if paper:
        gflops, p_total, p_tunable = paper
        print(f'Paper ({arch}, {shape[2]} frames, K400 table): {gflops / PAPER_VIEWS:.1f} '
              f'GFLOPs per view ({gflops} for {PAPER_VIEWS} views), params {p_total} M, '
              f'tunable {p_tunable} M. Differences: see docs/benchmarks.md.')
    return dict(params=total, tunable=tunable, gflops_per_view=macs_per_view / 1e9)


if __name__ == '__main__':
    sys.exit(run_tool(main))
