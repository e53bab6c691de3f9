"""Command lines of tools/train.py and tools/test.py as AIM's users type them."""
import importlib.util
import os

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = 'configs/recognition/vit/vitclip_base_diving48.py'


def _tool(name):
    spec = importlib.util.spec_from_file_location(f'tool_{name}',
                                                  os.path.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _no_local_rank(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)


@pytest.mark.parametrize('flag', [['--local_rank', '1'], ['--local-rank=1']])
def test_torch_distributed_launch_local_rank_spellings(flag):
    """``python -m torch.distributed.launch`` passes --local_rank (old) / --local-rank (new)."""
    args = _tool('train').parse_args([CONFIG, '--launcher', 'pytorch', *flag])
    assert args.local_rank == 1 and os.environ['LOCAL_RANK'] == '1'


def test_aim_readme_training_command_parses():
    args = _tool('train').parse_args([
        CONFIG, '--test-last', '--validate', '--cfg-options',
        'model.backbone.pretrained=openaiclip', 'work_dir=work_dirs_vit/diving48/debug'])
    assert args.test_last and args.validate
    assert args.cfg_options == {'model.backbone.pretrained': 'openaiclip',
                                'work_dir': 'work_dirs_vit/diving48/debug'}


def test_train_config_reflects_flags(tmp_path):
    train = _tool('train')
    args = train.parse_args([CONFIG, '--validate', '--amp', 'bf16', '--seed', '3',
                             '--deterministic', '--work-dir', str(tmp_path), '--cfg-options',
                             'optimizer_config.update_interval=8'])
    cfg = train.build_config(args)
    assert cfg.work_dir == str(tmp_path) and cfg.launcher == 'none'
    assert cfg.randomness == dict(seed=3, deterministic=True)
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.accumulative_counts == 8
    assert cfg.val_dataloader.dataset.test_mode is True
    assert cfg.default_hooks.checkpoint.save_best == 'top1_acc'
    assert cfg.test_dataloader is None  # no --test-last / --test-best
    no_val = train.build_config(train.parse_args([CONFIG, '--work-dir', str(tmp_path)]))
    assert no_val.val_dataloader is None and 'save_best' not in no_val.default_hooks.checkpoint


def test_resume_picks_the_latest_checkpoint_of_the_work_dir(tmp_path):
    train = _tool('train')
    for name in ('epoch_4.pth', 'epoch_12.pth'):
        torch.save({'meta': {}}, tmp_path / name)
    cfg = train.build_config(train.parse_args([CONFIG, '--resume', '--work-dir',
                                               str(tmp_path)]))
    assert cfg.resume is True and cfg.load_from == str(tmp_path / 'epoch_12.pth')


@pytest.mark.parametrize('argv, message', [
    ([CONFIG, '--test-best'], 'needs --validate'),
    ([CONFIG, '--gpus', '2'], 'dist_train.sh'),
])
def test_train_refuses_with_the_fix(argv, message, capsys):
    with pytest.raises(SystemExit):
        _tool('train').parse_args(argv)
    assert message in capsys.readouterr().err


def test_test_tool_arguments(tmp_path):
    test = _tool('test')
    with pytest.raises(SystemExit):
        test.parse_args([CONFIG, 'ckpt.pth'])  # nothing to compute or write
    args = test.parse_args([CONFIG, 'ckpt.pth', '--eval', 'top_k_accuracy',
                            'mean_class_accuracy', '--out', str(tmp_path / 'r.json'),
                            '--average-clips', 'score', '--local_rank', '0'])
    cfg = test.build_config(args)
    assert cfg.load_from == 'ckpt.pth' and cfg.resume is False
    assert cfg.model.test_cfg.average_clips == 'score'
    assert [m['type'] for m in cfg.test_evaluator] == ['AccMetric', 'DumpResults']
    assert cfg.test_evaluator[0]['metric_list'] == ('top_k_accuracy', 'mean_class_accuracy')
    assert cfg.train_dataloader is None and cfg.optim_wrapper is None
    assert cfg.test_dataloader.dataset.test_mode is True
