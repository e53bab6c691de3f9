"""Peak training memory per GPU of a config's model, predicted on a CPU without a GPU or weights.

    python tools/analysis/memory_plan.py configs/recognition/vit/vitclip_large_diving48.py \\
        --gpu-memory 11
    python tools/analysis/memory_plan.py CONFIG [--gpu-memory GIB] [--gpus N] \\
        [--cfg-options KEY=VALUE ...] [--json FILE]

The model is built on the ``meta`` device (no weights are read: ``pretrained`` is not loaded)
and its parameters become fake tensors (``torch._subclasses.FakeTensorMode``); the
recognizer's training forward and loss then run on fake clips of the config's training shape
(``SampleFrames`` clip_len and num_clips, the last crop/resize to a fixed size), under
autocast for fp16/bf16, and every tensor autograd keeps for the backward is counted once
(``mmaction.utils.memory.SavedTensors``). Nothing is computed or allocated.

A row's peak is the sum of
  parameters (as stored, fp32), gradients of the trainable parameters (fp32) and AdamW's two
  fp32 states per trainable parameter (the trainable set as the recognizer applies it:
  ``model.trainable_params``), the activations autograd keeps (``with_cp=True``: plus the
  saved tensors of the largest block, which exist while the backward recomputes it), and a
  stated workspace margin:
  ``MARGIN_FIXED`` (CUDA context, cuBLAS/cuDNN workspace) plus ``MARGIN_FRACTION`` of the
  activations (allocator fragmentation, backward temporaries).
Activations are counted at 1, 2 and 3 videos per GPU; larger batches lie on the line through
2 and 3 (activations are affine in the batch from 2 on; at 1 a reshape may be a view where it
copies at more: tests/test_tools/test_memory_plan.py checks the extrapolation against direct
counts). fp16 and bf16 are counted once: CPU autocast has one policy for both. Counts are
those of the CPU kernels (SDPA's CPU flash kernel, CPU autocast);
``tools/analysis/gpu_check.py`` compares them with ``torch.cuda.max_memory_allocated``.
"""
import argparse
import contextlib
import json
import sys
from typing import Dict, List, Optional

import torch
from mmengine.config import DictAction
from torch._subclasses.fake_tensor import FakeTensorMode

from mmaction.utils.cli import user_error

GIB = 2**30
MARGIN_FIXED = GIB  # CUDA context (~0.3-0.5 GiB) + cuBLAS/cuDNN workspaces
MARGIN_FRACTION = 0.10  # of the activations: fragmentation, temporaries of the backward
BATCHES = (1, 2, 4, 8)
PRECISIONS = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}
WITH_CP = (False, 'selective', True)
#: GPUs AIM's README trains on; the effective batch of a config is counted over these
AIM_GPUS = 8


@user_error
class PlanError(ValueError):
    """A config whose model cannot be planned."""


# ----------------------------------------------------------------------------- the config
def _train_pipeline(cfg) -> list:
    loader = cfg.get('train_dataloader') or {}
    return list((loader.get('dataset') or {}).get('pipeline') or [])


def clip_shape(cfg) -> Dict[str, int]:
    """Views (num_clips), frames (clip_len) and crop side of one training video."""
    frames = views = side = None
    for step in _train_pipeline(cfg):
        kind = step.get('type')
        if kind == 'SampleFrames':
            frames, views = step.get('clip_len'), step.get('num_clips', 1)
        elif kind in ('CenterCrop', 'RandomCrop', 'ThreeCrop', 'TenCrop') and \
                step.get('crop_size'):
            side = step['crop_size']
        elif kind == 'Resize' and step.get('keep_ratio') is False:
            side = step['scale']
        elif kind == 'MultiScaleCrop' and step.get('input_size'):
            side = step['input_size']
    if not frames:
        raise PlanError('the training pipeline has no SampleFrames with clip_len '
                        '(data.train.pipeline): the plan needs the frames per clip.')
    side = side or cfg.model.backbone.get('input_resolution') or cfg.model.backbone.get(
        'img_size')
    if side is None:
        raise PlanError('the training pipeline sets no fixed crop size (a CenterCrop/'
                        'RandomCrop crop_size or a Resize with keep_ratio=False).')
    h, w = (side, side) if isinstance(side, int) else (side[1], side[0])
    return dict(views=views, frames=frames, height=h, width=w)


def recipe(cfg, gpus: int) -> Dict[str, int]:
    """The config's videos per GPU and gradient accumulation, and its effective batch over
    AIM's 8 GPUs; ``gpus``: those the options are for."""
    per_gpu = cfg.train_dataloader.batch_size
    interval = (cfg.get('optim_wrapper') or {}).get('accumulative_counts', 1) or 1
    return dict(videos_per_gpu=per_gpu, update_interval=interval, gpus=gpus,
                effective=per_gpu * AIM_GPUS * interval)


def config_precision(cfg) -> str:
    wrapper = cfg.get('optim_wrapper') or {}
    if wrapper.get('type') in ('AmpOptimWrapper', 'AutocastOptimWrapper'):
        return {'float16': 'fp16', 'bfloat16': 'bf16'}.get(
            wrapper.get('dtype') or ('float16' if wrapper['type'] == 'AmpOptimWrapper'
                                     else 'bfloat16'), 'fp16')
    return 'fp32'


def keep_batch_options(videos_per_gpu: int, gpus: int, effective: int) -> Optional[str]:
    """The --cfg-options that keep ``effective`` videos per update, or None if they cannot."""
    if effective % (videos_per_gpu * gpus):
        return None
    return (f'data.videos_per_gpu={videos_per_gpu} '
            f'optimizer_config.update_interval={effective // (videos_per_gpu * gpus)}')


# ----------------------------------------------------------------------------- the model
def build_fake(cfg, mode: FakeTensorMode):
    """The config's recognizer in training mode with fake parameters (no weights read)."""
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    register_all_modules()
    model_cfg = cfg.model.copy()
    backbone = model_cfg.backbone.copy()
    if 'pretrained' in backbone:
        backbone.pretrained = None
    model_cfg.backbone = backbone
    model_cfg.pop('init_cfg', None)
    kind = backbone.get('type')
    try:
        with torch.device('meta'):
            model = MODELS.build(model_cfg)
    except Exception as err:
        raise PlanError(f'model.backbone.type={kind!r} cannot be planned: building it on the '
                        f'meta device failed ({type(err).__name__}: {err}).') from err
    if not hasattr(type(model.backbone), 'with_cp') or not hasattr(model, 'loss'):
        raise PlanError(f'model.backbone.type={kind!r} cannot be planned: it has no with_cp '
                        'setting to vary (CheckpointOption) or the recognizer no loss().')
    with mode:
        for module in model.modules():
            for name, p in list(module._parameters.items()):
                if p is not None:
                    module._parameters[name] = torch.nn.Parameter(
                        torch.empty(p.shape, dtype=p.dtype), requires_grad=p.requires_grad)
            for name, b in list(module._buffers.items()):
                if b is not None:
                    module._buffers[name] = torch.zeros(b.shape, dtype=b.dtype)
    return model.train()


@contextlib.contextmanager
def own_caches():
    """Swin caches its window masks and orders per geometry and device: tensors made under a
    fake mode must neither come from nor stay in those caches (a real model on the CPU would
    get fake ones)."""
    from mmaction.models.backbones import swin_common

    caches = (swin_common._window_mask, swin_common._window_order)
    for cache in caches:
        cache.cache_clear()
    try:
        yield
    finally:
        for cache in caches:
            cache.cache_clear()


def activation_bytes(model, shape: Dict[str, int], videos: int, precision: str,
                     with_cp, mode: FakeTensorMode) -> int:
    """Bytes autograd keeps over the training forward and loss of ``videos`` videos."""
    from mmaction.structures import ActionDataSample
    from mmaction.utils.memory import SavedTensors, model_tensors

    model.backbone.with_cp = with_cp
    dtype = PRECISIONS[precision]
    with own_caches(), checkpoint_where_graphed(), mode:
        samples = []
        for _ in range(videos):
            sample = ActionDataSample()
            sample.set_gt_label(0)
            samples.append(sample)
        inputs = torch.empty(videos, shape['views'], 3, shape['frames'], shape['height'],
                             shape['width'])
        with SavedTensors(model_tensors(model)) as saved:
            with torch.autocast('cpu', dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                losses = model.loss(inputs, samples)
        del losses
    return saved.bytes


@contextlib.contextmanager
def largest_block():
    """Within the context, ``with_cp=True``'s checkpointed blocks run plainly and each one's
    saved bytes are counted on its own: ``found['bytes']`` is the largest, what the backward
    holds while it recomputes that block on top of what the checkpoints keep."""
    from mmaction.models.common import blocks
    from mmaction.utils.memory import SavedTensors, model_tensors

    found = dict(bytes=0)

    def run_plainly(block, *args, use_reentrant=False):
        with SavedTensors(model_tensors(block)) as saved:
            out = block(*args)
        found['bytes'] = max(found['bytes'], saved.bytes)
        return out

    original = blocks.checkpoint
    blocks.checkpoint = run_plainly
    try:
        yield found
    finally:
        blocks.checkpoint = original


@contextlib.contextmanager
def checkpoint_where_graphed():
    """``with_cp=True`` as it holds memory: a block with nothing to differentiate (frozen, its
    input needing no gradient: Video Swin under AIM's head-only rule) records no graph, so
    what its checkpoint packs is freed at once; counting packs would count it (and reuse of
    the freed addresses would make the count depend on the allocator). Such blocks run
    plainly here; the others through the real checkpoint."""
    from mmaction.models.common import blocks

    original = blocks.checkpoint

    def checkpoint(block, *args, **kwargs):
        needs_grad = any(p.requires_grad for p in block.parameters()) or any(
            isinstance(a, torch.Tensor) and a.requires_grad for a in args)
        return original(block, *args, **kwargs) if needs_grad else block(*args)

    blocks.checkpoint = checkpoint
    try:
        yield
    finally:
        blocks.checkpoint = original


def model_state(model) -> Dict[str, int]:
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    params += sum(b.numel() * b.element_size() for b in model.buffers())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return dict(param_bytes=params, grad_bytes=4 * trainable, optimizer_bytes=8 * trainable)


#: batches counted directly; others lie on the line through 2 and 3 (at 1 video a reshape
#: may be a view where at more it copies, so 1 is off that line)
COUNTED = (1, 2, 3)


def _on_line(counts: Dict[int, int], n: int) -> int:
    if n in counts:
        return counts[n]
    return counts[2] + (counts[3] - counts[2]) * (n - 2)


def _count(model, shape, precision, cp, mode, kind):
    """({videos: activation bytes}, {videos: largest block's bytes (with_cp=True)})."""
    kept, block = {}, {n: 0 for n in COUNTED}
    try:
        for n in COUNTED:
            kept[n] = activation_bytes(model, shape, n, precision, cp, mode)
            if cp is True:
                with largest_block() as found:
                    activation_bytes(model, shape, n, precision, cp, mode)
                block[n] = found['bytes']
    except Exception as err:
        raise PlanError(
            f'model.backbone.type={kind!r} cannot be planned: its fake training forward '
            f'failed ({precision}, with_cp={cp!r}): {type(err).__name__}: '
            f'{str(err).splitlines()[0] if str(err) else ""}') from err
    return kept, block


def plan(cfg, gpu_memory: Optional[float] = None, batches=BATCHES, precisions=tuple(PRECISIONS),
         with_cp=WITH_CP, shape: Optional[Dict[str, int]] = None) -> Dict:
    """Rows of the plan, and the model's fixed bytes; ``shape`` (views, frames, height,
    width of a video): the training pipeline's by default."""
    shape = shape or clip_shape(cfg)
    mode = FakeTensorMode()
    model = build_fake(cfg, mode)
    kind = cfg.model.backbone.get('type')
    state = model_state(model)
    fixed = sum(state.values())
    rows = []
    counted = {}
    for precision in precisions:
        # CPU autocast casts the same operations to fp16 as to bf16 (one lower-precision
        # policy): the same bytes, counted once
        same = 'fp16' if precision == 'bf16' and 'fp16' in precisions else precision
        for cp in with_cp:
            if (same, cp) not in counted:
                counted[same, cp] = _count(model, shape, same, cp, mode, kind)
            kept, block = counted[same, cp]
            for n in batches:
                act, recompute = _on_line(kept, n), _on_line(block, n)
                peak = fixed + act + recompute + MARGIN_FIXED + int(MARGIN_FRACTION * act)
                rows.append(dict(videos_per_gpu=n, precision=precision, with_cp=cp,
                                 activation_bytes=act, recompute_bytes=recompute,
                                 peak_bytes=peak,
                                 fits=None if gpu_memory is None else peak <= gpu_memory * GIB))
    return dict(shape=shape, state=state, rows=rows, backbone=kind)


def recommend(rows: List[dict], precision: str) -> Optional[dict]:
    """Largest videos_per_gpu that fits without checkpointing, then with 'selective', then
    True, in the config's precision."""
    for cp in WITH_CP:
        fitting = [r for r in rows if r['fits'] and r['with_cp'] == cp and
                   r['precision'] == precision]
        if fitting:
            return max(fitting, key=lambda r: r['videos_per_gpu'])
    return None


# ----------------------------------------------------------------------------- output
def _cp(value) -> str:
    return repr(value) if value == 'selective' else str(value)


def render(result, args, rec, precision, batch) -> str:
    s, st = result['shape'], result['state']
    lines = [f"Memory plan (predicted, not measured) for {args.config}",
             f"model {result['backbone']}: {s['views']} view(s) x {s['frames']} frames x "
             f"{s['height']}x{s['width']} per video; parameters {st['param_bytes'] / GIB:.2f} "
             f"GiB, gradients {st['grad_bytes'] / GIB:.2f} GiB, AdamW states "
             f"{st['optimizer_bytes'] / GIB:.2f} GiB",
             "peak = those + activations kept (with_cp=True: + the largest block's, held while "
             "the backward recomputes it)",
             f"  + margin ({MARGIN_FIXED / GIB:.1f} GiB for CUDA "
             f"context and workspaces + {100 * MARGIN_FRACTION:.0f}% of activations)", '',
             '| videos_per_gpu | precision | with_cp | activations GiB | peak GiB |'
             + (f' fits {args.gpu_memory:g} GiB |' if args.gpu_memory else ''),
             '|---:|---|---|---:|---:|' + ('---|' if args.gpu_memory else '')]
    for r in result['rows']:
        lines.append(f"| {r['videos_per_gpu']} | {r['precision']} | {_cp(r['with_cp'])} | "
                     f"{r['activation_bytes'] / GIB:.2f} | {r['peak_bytes'] / GIB:.2f} |"
                     + ((' yes |' if r['fits'] else ' no |') if args.gpu_memory else ''))
    lines += ['', f"The config's recipe: {batch['videos_per_gpu']} videos per GPU x "
              f"{AIM_GPUS} GPUs (as AIM's README trains) x update_interval "
              f"{batch['update_interval']} = {batch['effective']} videos per update; "
              f"precision {precision}."]
    if args.gpu_memory is None:
        lines.append('Give --gpu-memory GIB (e.g. 11, 24, 80) to mark what fits and get a '
                     'recommendation.')
    elif rec is None:
        lines.append(f'Nothing fits in {args.gpu_memory:g} GiB in {precision}, even one video '
                     'with with_cp=True: fewer frames or a smaller model.')
    else:
        opts = keep_batch_options(rec['videos_per_gpu'], batch['gpus'], batch['effective'])
        cp = rec['with_cp']
        cp_opt = '' if cp is False else f' model.backbone.with_cp={_cp(cp)}'
        lines.append(f"Recommended on {args.gpu_memory:g} GiB: videos_per_gpu="
                     f"{rec['videos_per_gpu']}, {precision}, with_cp={_cp(cp)} (predicted peak "
                     f"{rec['peak_bytes'] / GIB:.2f} GiB).")
        lines.append(f"Keep {batch['effective']} videos per update on {batch['gpus']} "
                     f'GPU(s): ' + (f'--cfg-options {opts}{cp_opt}' if opts else
                                     f"{batch['effective']} is not a multiple of "
                                     f"{rec['videos_per_gpu']} x {batch['gpus']}"))
    return '\n'.join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('--gpu-memory', type=float, help='GiB per GPU: mark what fits, recommend')
    p.add_argument('--gpus', type=int, help='GPUs you train on (default 1): the options keep '
                   f'the effective batch of the config on {AIM_GPUS} GPUs (AIM\'s README)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    p.add_argument('--json', help='write the rows as JSON')
    p.add_argument('--debug', action='store_true', help='tracebacks instead of messages')
    return p.parse_args(argv)


def main(argv=None):
    from mmaction.engine import load_config
    from mmaction.utils import write_text_atomic

    args = parse_args(argv)
    if args.gpus is not None and args.gpus < 1:
        raise PlanError(f'--gpus must be at least 1, got {args.gpus}')
    cfg = load_config(args.config, args.cfg_options)
    batch = recipe(cfg, args.gpus or 1)
    result = plan(cfg, args.gpu_memory)
    precision = config_precision(cfg)
    rec = recommend(result['rows'], precision) if args.gpu_memory else None
    print(render(result, args, rec, precision, batch))
    if args.json:
        write_text_atomic(args.json, json.dumps(result['rows'], indent=1))
    return dict(result, recommended=rec, recipe=batch, precision=precision)


if __name__ == '__main__':
    from mmaction.engine.launch import run_tool
    sys.exit(run_tool(main))
