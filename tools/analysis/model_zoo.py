"""The model zoo of docs/recipes.md: one line per row of AIM's result tables, and one per
other shipped config, with parameters, tunable parameters and GFLOPs per view measured by
``get_flops.py`` beside the paper's numbers.

    python tools/analysis/model_zoo.py                          # print the tables
    python tools/analysis/model_zoo.py --update-doc docs/recipes.md

Views are read from each config's test pipeline: frames x temporal clips x spatial crops.
"""
import argparse
import glob
import importlib.util
import os
import os.path as osp
import re
import sys

from mmengine.config import Config

from mmaction.engine.launch import add_debug_argument, run_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VIT = 'configs/recognition/vit/'
START, END = '<!-- model-zoo:start -->', '<!-- model-zoo:end -->'

#: AIM's result tables (its README): table, backbone, views, config of the row, then the
#: paper's GFLOPs (all views), params (M), tunable params (M), top-1, top-5.
PAPER_ROWS = [
    ('K400', 'ViT-B/16', '8x3x1', VIT + 'vitclip_base_k400_8x16x1.py', 606, 97, 11, 83.9, 96.3),
    ('K400', 'ViT-B/16', '16x3x1', VIT + 'vitclip_base_k400_16x8x1.py', 1214, 97, 11, 84.5,
     96.6),
    ('K400', 'ViT-B/16', '32x3x1', VIT + 'vitclip_base_k400.py', 2428, 97, 11, 84.7, 96.7),
    ('K400', 'ViT-L/14', '8x3x1', VIT + 'vitclip_large_k400_8x16x1.py', 2902, 341, 38, 86.8,
     97.2),
    ('K400', 'ViT-L/14', '16x3x1', VIT + 'vitclip_large_k400_16x8x1.py', 5604, 341, 38, 87.3,
     97.6),
    ('K400', 'ViT-L/14', '32x3x1', VIT + 'vitclip_large_k400.py', 11208, 341, 38, 87.5, 97.7),
    ('SSv2', 'ViT-B/16', '32x3x3', VIT + 'vitclip_base_sthv2_32frames.py', 7284, 97, 11, 76.9,
     None),
    ('SSv2', 'ViT-L/14', '32x3x3', VIT + 'vitclip_large_sthv2_32frames.py', 33624, 341, 38,
     80.4, None),
    ('Diving-48', 'ViT-B/16', '32x1x1', VIT + 'vitclip_base_diving48_centercrop.py', 809, 97,
     11, 88.9, None),
    ('Diving-48', 'ViT-L/14', '32x1x1', VIT + 'vitclip_large_diving48.py', 3736, 341, 38, 90.6,
     None),
    ('K700', 'ViT-B/16', '8x3x3', VIT + 'vitclip_base_k700.py', None, None, None, None, None),
    ('K700', 'ViT-L/14', '32x3x3', VIT + 'vitclip_large_k700.py', None, None, None, None, None),
]


def _get_flops():
    spec = importlib.util.spec_from_file_location(
        'get_flops', osp.join(ROOT, 'tools', 'analysis', 'get_flops.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def views(cfg):
    """(frames, temporal clips, spatial crops) of the test pipeline."""
    steps = {s['type']: s for s in cfg.data.test.pipeline}
    sampler = steps.get('SampleFrames') or steps.get('UniformSampleFrames')
    crops = 3 if 'ThreeCrop' in steps else 10 if 'TenCrop' in steps else 1
    return sampler['clip_len'], sampler.get('num_clips', 1), crops


def backbone_name(backbone):
    kind = backbone['type']
    if kind in ('ViT_CLIP', 'TimeSformer'):
        arch = {768: 'ViT-B/16', 1024: 'ViT-L/14'}.get(backbone.get('width'), '?')
        name = f'CLIP {arch}'
        if backbone.get('num_tadapter', 1) == 2:
            name += ', 2 T-adapters'
        return name if kind == 'ViT_CLIP' else f'TimeSformer ({name})'
    if kind == 'ViT_ImageNet':
        return 'IN-21K ViT-B/16' + (', 2 T-adapters' if backbone.get('num_tadapter', 1) == 2
                                    else '')
    if kind == 'SwinTransformer2D_Adapter':
        return 'AIM Swin-B (IN-21K)'
    if kind == 'SwinTransformer2D':
        return '2D Swin-B (IN-21K)'
    if kind == 'SwinTransformer3D':
        size = {96: 'T' if list(backbone['depths']) == [2, 2, 6, 2] else 'S', 128: 'B'}
        return f"Video Swin-{size.get(backbone['embed_dim'], '?')}"
    return kind


def _pct(ours, paper):
    return f'{100 * (ours - paper) / paper:+.1f}%'


def measure_all(get_flops, configs):
    out = {}
    for path in configs:
        cfg = Config.fromfile(osp.join(ROOT, path))
        counts = get_flops.measure(cfg)
        out[path] = dict(counts, views=views(cfg), backbone=backbone_name(cfg.model.backbone))
    return out


def paper_table(measured):
    lines = ['| table | config | backbone | views | params (M) | tunable (M) | GFLOPs/view '
             '| paper params / tunable (M) | paper GFLOPs/view (all views) | GFLOPs vs paper '
             '| paper top-1 / top-5 |',
             '|---|---|---|---|---:|---:|---:|---:|---:|---:|---|']
    for table, arch, row_views, path, gflops, params, tunable, top1, top5 in PAPER_ROWS:
        m = measured[path]
        frames, clips, crops = m['views']
        ours_views = f'{frames}x{clips}x{crops}'
        if ours_views != row_views:
            raise SystemExit(f'{path} tests {ours_views} views; the paper row is {row_views}')
        ours = m['macs_per_view'] / 1e9
        paper_view = f'{gflops / (clips * crops):.1f} ({gflops})' if gflops else '–'
        lines.append(
            f"| {table} | `{osp.basename(path)}` | {m['backbone']} | {ours_views} "
            f"| {m['params'] / 1e6:.1f} | {m['tunable'] / 1e6:.2f} | {ours:.1f} "
            f"| {f'{params} / {tunable}' if params else '–'} | {paper_view} "
            f"| {_pct(ours, gflops / (clips * crops)) if gflops else '–'} "
            f"| {top1 if top1 else '–'} / {top5 if top5 else '–'} |")
    return lines


def other_table(measured):
    lines = ['| config | backbone | views | params (M) | tunable (M) | GFLOPs/view |',
             '|---|---|---|---:|---:|---:|']
    for path, m in measured.items():
        frames, clips, crops = m['views']
        lines.append(f"| `{osp.relpath(path, 'configs/recognition')}` | {m['backbone']} "
                     f"| {frames}x{clips}x{crops} | {m['params'] / 1e6:.1f} "
                     f"| {m['tunable'] / 1e6:.2f} | {m['macs_per_view'] / 1e9:.1f} |")
    return lines


def other_configs():
    rows = {r[3] for r in PAPER_ROWS}
    found = glob.glob(osp.join(ROOT, 'configs/recognition/**/*.py'), recursive=True)
    return sorted(p for p in (osp.relpath(f, ROOT) for f in found)
                  if p not in rows and 'synthetic' not in p)


def render():
    get_flops = _get_flops()
    rows = measure_all(get_flops, [r[3] for r in PAPER_ROWS])
    others = measure_all(get_flops, other_configs())
    text = [START, '', '### The paper\'s rows', ''] + paper_table(rows)
    text += ['', '### The other configs', ''] + other_table(others) + ['', END]
    return '\n'.join(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--update-doc', help='replace the model-zoo block of this markdown file')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.update_doc and not os.path.isfile(args.update_doc):  # before the work
        raise FileNotFoundError(f'--update-doc {args.update_doc}: no such file')
    block = render()
    if not args.update_doc:
        print(block)
        return block
    doc = open(args.update_doc).read()
    if START not in doc or END not in doc:
        raise SystemExit(f'{args.update_doc} has no {START} ... {END} block to replace.')
    doc = re.sub(re.escape(START) + '.*?' + re.escape(END), lambda _: block, doc, flags=re.S)
    with open(args.update_doc, 'w') as f:
        f.write(doc)
    print(f'Updated the model zoo of {args.update_doc}.')
    return block


if __name__ == '__main__':
    sys.exit(run_tool(main))
