"""AIM's own config files go through tools/train.py's config path unchanged and build their
model and pipelines; ours at the same paths build too.

AIM's files are written here from the fixture (tests/fixtures/aim_recipes.py: every key of
the official configs as they resolve, with AIM's Decord steps), in AIM's dialect.
"""
import importlib.util
import os.path as osp
import pprint

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

from tests.fixtures.aim_recipes import RECIPES
from tests.test_configs.test_aim_recipes import EXPERIMENTS, NOT_YET

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
AIM_FILES = sorted(set(RECIPES) - NOT_YET)


def _put(node, parts, value):
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        head = int(head)
        node.extend([None] * (head + 1 - len(node)))
    elif head not in node:
        node[head] = None
    if not rest:
        node[head] = value
        return
    if node[head] is None:
        node[head] = [] if rest[0].isdigit() else {}
    _put(node[head], rest, value)


def _nest(flat):
    """Dotted keys -> nested dicts; numeric parts are list indices."""
    tree = {}
    for key, value in flat.items():
        _put(tree, key.split('.'), value)
    return tree


def write_aim_file(path, recipe):
    """The official config as one self-contained file of AIM's dialect."""
    tree = _nest(recipe['settings'])
    for split, steps in recipe['pipelines'].items():
        tree['data'][split]['pipeline'] = [dict(type=t, **kw) for t, kw in steps]
    path.write_text(''.join(f'{k} = {pprint.pformat(v)}\n' for k, v in tree.items()))
    return str(path)


def _train_tool():
    spec = importlib.util.spec_from_file_location('tool_train', osp.join(ROOT, 'tools/train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_through_train_py(config):
    """tools/train.py's config path (checks, dialect translation, device choices), then the
    model (on the meta device: no memory, no weights) and every pipeline."""
    from mmaction.registry import MODELS, TRANSFORMS
    from mmaction.utils import register_all_modules
    register_all_modules()
    tool = _train_tool()
    cfg = tool.build_config(tool.parse_args([config, '--validate', '--test-last']))
    model_cfg = cfg.model.copy()
    model_cfg['backbone'] = dict(model_cfg['backbone'], pretrained=None)
    with torch.device('meta'):
        model = MODELS.build(model_cfg)
    pipelines = {split: Compose([TRANSFORMS.build(s) for s in cfg[f'{split}_dataloader'].
                                 dataset.pipeline]) for split in ('train', 'val', 'test')}
    return cfg, model, pipelines


def test_an_aim_file_written_from_the_fixture_resolves_to_the_fixture(tmp_path):
    from tests.test_configs.test_aim_recipes import _plain, flatten
    path = 'configs/recognition/vit/vitclip_large_k400.py'
    cfg = Config.fromfile(write_aim_file(tmp_path / 'aim.py', RECIPES[path])).to_dict()
    for split in ('train', 'val', 'test'):
        cfg['data'][split].pop('pipeline')
    assert flatten(cfg) == _plain(RECIPES[path]['settings'])


@pytest.mark.parametrize('path', AIM_FILES)
def test_aims_file_builds_through_train_py_unchanged(path, tmp_path):
    config = write_aim_file(tmp_path / osp.basename(path), RECIPES[path])
    cfg, model, pipelines = build_through_train_py(config)
    settings = RECIPES[path]['settings']
    assert type(model.backbone).__name__ == settings['model.backbone.type']
    assert model.cls_head.fc_cls.out_features == settings['model.cls_head.num_classes']
    decoders = [type(t).__name__ for t in pipelines['train'].transforms][:3]
    assert decoders == ['DecordInit', 'SampleFrames', 'DecordDecode']
    assert cfg.optim_wrapper.accumulative_counts == settings['optimizer_config.update_interval']


@pytest.mark.parametrize('path', EXPERIMENTS)
def test_our_config_builds_through_train_py(path):
    cfg, model, pipelines = build_through_train_py(osp.join(ROOT, path))
    assert [type(t).__name__ for t in pipelines['test'].transforms][0] == 'PyAVInit'
