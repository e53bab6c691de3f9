"""init_recognizer with an inference-only config, as mmaction2 0.x's ``init_recognizer``
takes one: the model and ``data.test`` (videos_per_gpu included or not), no schedule, no
optimizer, no training set. Training refuses such a config, naming what is missing."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmaction.apis import inference_recognizer, init_recognizer
from mmaction.engine.commands import build_train_config, parse_train_args
from mmaction.engine.config import ConfigError, load_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'recognition', 'vit', 'vitclip_tiny_synthetic.py')


def inference_only_config(tmp_path) -> str:
    full = Config.fromfile(CONFIG).to_dict()
    model = full['model']
    model['backbone']['pretrained'] = None
    test = dict(type='VideoDataset', ann_file='val.txt', data_prefix='videos',
                pipeline=full['test_pipeline'])
    path = tmp_path / 'inference_only.py'
    path.write_text(f'model = {model!r}\ndata = dict(test={test!r})\n')
    return str(path)


def test_init_recognizer_accepts_an_inference_only_config(tmp_path):
    config = inference_only_config(tmp_path)
    torch.manual_seed(0)
    reference = init_recognizer(CONFIG, None, cfg_options={'model.backbone.pretrained': None})
    checkpoint = tmp_path / 'weights.pth'
    torch.save(reference.state_dict(), checkpoint)
    model = init_recognizer(config, str(checkpoint))
    frames = np.random.default_rng(0).integers(0, 256, (12, 40, 40, 3), dtype=np.uint8)
    top, scores = inference_recognizer(model, frames, topk=2, return_scores=True)
    _, expected = inference_recognizer(reference, frames, topk=2, return_scores=True)
    np.testing.assert_array_equal(scores, expected)  # same weights, same test pipeline
    cfg = load_config(config)
    assert cfg.test_dataloader.batch_size == 1  # 0.x's default without videos_per_gpu
    assert cfg.train_cfg is None and cfg.optim_wrapper is None


def test_training_refuses_an_inference_only_config(tmp_path):
    config = inference_only_config(tmp_path)
    with pytest.raises(ConfigError, match=r'cannot train: total_epochs .* and optimizer .* '
                                          r'and data\.train .* are missing'):
        build_train_config(parse_train_args([config]))
    with pytest.raises(ConfigError, match=r'cannot train: total_epochs \(the length of '
                                          r'training.* is missing'):
        build_train_config(parse_train_args([CONFIG, '--cfg-options', 'total_epochs=None']))
