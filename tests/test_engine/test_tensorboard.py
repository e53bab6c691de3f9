"""TensorBoard logging, when the tensorboard package is installed (an optional extra)."""
import glob
import json
import os.path as osp

import pytest
import torch

from mmaction.engine import ActionRunner
from mmaction.engine.config.dialect import translate_log_config
from tests.test_engine.engine_helpers import make_batch, tiny_model_cfg


class _Clips(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        batch = make_batch(1, seed=i)
        return dict(inputs=batch['inputs'][0], data_samples=batch['data_samples'][0])


def test_a_short_run_writes_the_logged_scalars_to_tensorboard_event_files(tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    # AIM's log_config: text log plus TensorBoard
    logger, processor, visualizer = translate_log_config(dict(
        interval=1, hooks=[dict(type='TextLoggerHook'), dict(type='TensorboardLoggerHook')]))
    assert dict(type='TensorboardVisBackend') in visualizer['vis_backends']
    runner = ActionRunner(
        model=tiny_model_cfg(), work_dir=str(tmp_path), default_scope='mmaction',
        experiment_name='tensorboard', log_processor=processor, visualizer=visualizer,
        default_hooks=dict(logger=logger),
        train_dataloader=dict(dataset=_Clips(), batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3),
                           constructor='TrainableParamsOptimWrapperConstructor'),
        param_scheduler=dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0,
                             end=8),
        randomness=dict(seed=0))
    runner.train()
    (vis_data, ) = glob.glob(str(tmp_path / '*' / 'vis_data'))
    assert glob.glob(osp.join(vis_data, 'events.out.tfevents.*'))
    with open(osp.join(vis_data, 'scalars.json')) as f:
        logged = [row for row in map(json.loads, f) if 'loss' in row]
    assert len(logged) == 8  # 4 iterations per epoch, 2 epochs, every one logged
    events = EventAccumulator(vis_data)
    events.Reload()
    assert {'loss', 'lr'} <= set(events.Tags()['scalars'])
    for tag in ('loss', 'lr'):
        written = {e.step: e.value for e in events.Scalars(tag)}
        assert sorted(written) == [row['iter'] for row in logged]
        for row in logged:  # float32 in the event file
            assert written[row['iter']] == pytest.approx(row[tag], rel=1e-6), (tag, row)
    assert len({round(row['lr'], 9) for row in logged}) > 1  # the values differ per step
