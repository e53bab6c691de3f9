"""Engine overheads of a config's model: optimizer step and checkpoint size/time.

    python tools/analysis/bench_engine.py configs/recognition/vit/vitclip_base_k400.py

* optimizer step: AdamW of the config (``paramwise_cfg`` included) built by mmengine's
  ``DefaultOptimWrapperConstructor`` (every parameter in the optimizer, one param group per
  parameter) against ours (trainable parameters only, equal settings merged), on the same
  random gradients;
* checkpoint: bytes and ``torch.save`` time of the full state dict against
  ``save_tunable_only``;
* checkpoint files: the sizes of the files the runner writes after one training step
  (``CheckpointHook`` as ``checkpoint_config`` sets it: full or ``save_tunable_only``, with the
  optimizer state or ``save_optimizer=False``) and of what ``tools/publish_checkpoint.py``
  makes of them.

Weights are random (no pretrained file needed); timings are medians over ``--iters`` runs.
The training step runs on one random 8-frame clip of 32x32 pixels (the sizes do not depend on
the input).
"""
import argparse
import gc
import io
import os
import statistics
import sys
import tempfile
import time

import torch
from mmengine.optim import build_optim_wrapper

from mmaction.checkpoint import publish_checkpoint, tunable_state_dict
from mmaction.engine import ActionRunner, load_config, resolve_precision
from mmaction.engine.launch import add_debug_argument, run_tool
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules


def median_ms(fn, iters):
    fn()  # warm-up (allocates optimizer state)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


class _OneClip(torch.utils.data.Dataset):
    def __init__(self, frames):
        self.clip = torch.randint(0, 256, (1, 3, frames, 32, 32), dtype=torch.uint8)

    def __len__(self):
        return 1

    def __getitem__(self, i):
        from mmaction.structures import ActionDataSample
        return dict(inputs=self.clip, data_samples=ActionDataSample().set_gt_label(0))


def written_checkpoints(cfg, optim_wrapper, root):
    """(what, bytes) of the files one training step writes, and of their published forms."""
    frames = cfg.model.backbone.get('num_frames', 8)
    rows = []
    for what, hook in (('full', {}), ('full, save_optimizer=False', dict(save_optimizer=False)),
                       ('save_tunable_only=True', dict(save_tunable_only=True))):
        work = os.path.join(root, what.replace(' ', '_').replace(',', '').replace('=', '_'))
        runner = ActionRunner(
            model=cfg.model, work_dir=work, default_scope='mmaction', log_level='WARNING',
            experiment_name=os.path.basename(work),
            train_dataloader=dict(dataset=_OneClip(frames), batch_size=1, num_workers=0,
                                  sampler=dict(type='DefaultSampler', shuffle=False),
                                  collate_fn=dict(type='pseudo_collate')),
            train_cfg=dict(by_epoch=True, max_epochs=1), optim_wrapper=optim_wrapper,
            default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, **hook)))
        runner.train()
        del runner
        gc.collect()
        written = os.path.join(work, 'epoch_1.pth')
        rows.append((f'{what} (epoch_N.pth)', os.path.getsize(written)))
        if hook.get('save_optimizer', True):  # without optimizer it is the published form
            published, _ = publish_checkpoint(written, os.path.join(work, 'published.pth'))
            rows.append((f'{what}, published', os.path.getsize(published)))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--files', action='store_true',
                        help='also train one step and report the checkpoint files written')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = load_config(args.config)
    cfg.model.backbone.pretrained = None
    model = MODELS.build(cfg.model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    torch.manual_seed(0)
    for p in trainable:
        p.grad = 1e-3 * torch.randn_like(p)

    print(f'{args.config}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, '
          f'{sum(p.numel() for p in trainable) / 1e6:.1f}M trainable, torch threads '
          f'{torch.get_num_threads()}')
    ow_cfg = resolve_precision(dict(cfg.optim_wrapper), amp='none', cuda=False)
    for name, constructor in (('mmengine default', 'DefaultOptimWrapperConstructor'),
                              ('ours', 'TrainableParamsOptimWrapperConstructor')):
        wrapper = build_optim_wrapper(model, dict(ow_cfg, constructor=constructor))
        groups = wrapper.optimizer.param_groups
        ms = median_ms(wrapper.optimizer.step, args.iters)
        print(f'optimizer step, {name:16s}: {len(groups):4d} param groups, '
              f'{sum(len(g["params"]) for g in groups):4d} tensors, {ms:8.1f} ms')

    full = model.state_dict()
    for name, state in (('full', full), ('save_tunable_only', tunable_state_dict(model, full))):
        buffer = io.BytesIO()

        def save():
            buffer.seek(0)
            buffer.truncate()
            torch.save({'state_dict': state}, buffer)
        ms = median_ms(save, max(3, args.iters // 3))
        print(f'checkpoint {name:18s}: {len(state):4d} tensors, '
              f'{buffer.getbuffer().nbytes / 2**20:8.1f} MiB, torch.save {ms:8.1f} ms (to memory)')
    if args.files:
        del model, wrapper
        gc.collect()
        with tempfile.TemporaryDirectory() as root:
            for what, size in written_checkpoints(cfg, ow_cfg, root):
                print(f'file {what:50s}: {size / 2**20:8.1f} MiB ({size} bytes)')


if __name__ == '__main__':
    sys.exit(run_tool(main))
