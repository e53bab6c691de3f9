"""Shifted-window partitioning: our cached gather against roll + partition + reverse + roll.

    OMP_NUM_THREADS=2 PYTHONPATH=$PWD python tools/analysis/bench_swin_windows.py
    python tools/analysis/bench_swin_windows.py --shape 16 56 56 128 --window 7 --shift 3

Times the round trip a shifted Swin block makes around its attention (grid -> windows ->
grid) both ways, alternating, after checking that both produce the same windows.
"""
import argparse
import sys
import time

import torch
from einops import rearrange

from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.models.backbones.swin_common import _window_order, window_partition


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--shape', type=int, nargs=4, default=[16, 56, 56, 128],
                   help='B H W C of the feature map (default: AIM-Swin-B stage 0, 32 frames)')
    p.add_argument('--window', type=int, default=7)
    p.add_argument('--shift', type=int, default=3)
    p.add_argument('--iters', type=int, default=5)
    p.add_argument('--rounds', type=int, default=3)
    add_debug_argument(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    b, h, w, c = args.shape
    win, s = (args.window, args.window), (args.shift, args.shift)
    x = torch.randn(b, h, w, c)

    def rolled():
        windows = window_partition(torch.roll(x, (-s[0], -s[1]), (1, 2)), win)
        grid = rearrange(windows, '(b h w) (wh ww) c -> b (h wh) (w ww) c', b=b, h=h // win[0],
                         wh=win[0])
        return windows, torch.roll(grid, s, (1, 2))

    def gathered():
        order, inverse = _window_order((h, w), win, s, x.device)
        windows = x.reshape(b, -1, c).index_select(1, order).view(-1, win[0] * win[1], c)
        return windows, windows.reshape(b, -1, c).index_select(1, inverse).view(b, h, w, c)

    (w1, g1), (w2, g2) = rolled(), gathered()
    assert torch.equal(w1, w2) and torch.equal(g1, x) and torch.equal(g2, x)

    def ms(fn):
        fn()
        start = time.perf_counter()
        for _ in range(args.iters):
            fn()
        return 1000 * (time.perf_counter() - start) / args.iters

    results = []
    for _ in range(args.rounds):
        results.append((ms(rolled), ms(gathered)))
        print(f'roll+partition {results[-1][0]:8.1f} ms   gather {results[-1][1]:8.1f} ms')
    return results


if __name__ == '__main__':
    sys.exit(run_tool(main))
