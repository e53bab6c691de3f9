"""On the built-in motion benchmark, a trained AIM model's Grad-CAM heat concentrates on the
moving object: the share of the heat inside the object's masks (which the generator knows in
every frame) is several times the masks' share of the frame. Trains the quickstart's model
from scratch (a few minutes on 2 cores): slow, out of CI; docs/demos.md reports the figure of
tools/analysis/demo_assets.py, which measures it the same way."""
import importlib.util
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'recognition', 'vit', 'vitclip_tiny_synthetic.py')


def _assets():
    path = osp.join(ROOT, 'tools', 'analysis', 'demo_assets.py')
    spec = importlib.util.spec_from_file_location('demo_assets', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_trained_model_looks_at_the_moving_object(tmp_path):
    from mmaction.apis import init_recognizer
    from mmaction.synthetic import benchmark as bench
    paths = bench.prepare(str(tmp_path / 'data'), seed=0)
    options = bench.data_options(paths)
    options.update({'data.workers_per_gpu': 0, 'data.val_dataloader.workers_per_gpu': 0,
                    'data.test_dataloader.workers_per_gpu': 0})
    bench.train(CONFIG, str(tmp_path / 'work'), options, seed=0,
                log_file=str(tmp_path / 'train.log'))
    model = init_recognizer(CONFIG, bench.last_checkpoint(str(tmp_path / 'work')),
                            cfg_options=options)
    with open(paths['val']) as f:
        clips = [line.split()[0] for line in f][:50]
    shares = _assets().heat_shares(model, str(tmp_path / 'data'), clips)
    # the model solved the task (a model at chance would say nothing about where it looks)
    assert sum(r['predicted'] == r['label'] for r in shares['clips']) >= 45
    assert shares['mean_ratio'] > 3, shares
    assert shares['median_ratio'] > 3, shares
