"""A config error, a missing config, annotation list or checkpoint: the command-line tools
print one message (what, which key or file, the fix) and exit with status 2; --debug or
AIM_DEBUG=1 shows the traceback; library calls raise typed exceptions."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmaction.checkpoint import CheckpointError
from mmaction.engine.config import ConfigError
from mmaction.engine.launch import run_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
K400 = 'configs/recognition/vit/vitclip_base_k400.py'
KINETICS_LIST = 'bash tools/data/kinetics/generate_videos_filelist.sh kinetics400'


def _tool(name):
    spec = importlib.util.spec_from_file_location(f'tool_{name}',
                                                  osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    monkeypatch.delenv('AIM_DEBUG', raising=False)
    monkeypatch.chdir(ROOT)


def _message(capsys, tool, argv):
    """Exit status and stderr of ``tool`` run as its ``__main__`` runs it (in this process;
    the command itself: test_the_command_exits_with_status_2_and_a_message)."""
    status = run_tool(_tool(tool).main, argv)
    err = capsys.readouterr().err
    return status, err[err.index('error: '):]


def test_a_config_error_is_one_message_naming_the_key(capsys):
    status, err = _message(capsys, 'train', [K400, '--cfg-options', 'data.videos_per_gpu=two'])
    assert status == 2
    assert err.startswith('error: --cfg-options data.videos_per_gpu=two: data.videos_per_gpu '
                          'takes a number (the config has data.videos_per_gpu=8)')
    assert 'add --debug, or set AIM_DEBUG=1' in err


def test_a_missing_config_is_one_message(capsys, tmp_path):
    status, err = _message(capsys, 'test', [str(tmp_path / 'nope.py'), 'x.pth', '--eval',
                                            'top_k_accuracy'])
    assert status == 2
    assert f'error: config file {tmp_path / "nope.py"} does not exist' in err


def test_a_missing_annotation_list_names_the_key_and_the_command_that_writes_it(capsys):
    from mmengine.config import Config
    listed = Config.fromfile(K400).data.train.ann_file
    status, err = _message(capsys, 'train', [K400])
    assert status == 2
    assert err.startswith(f'error: data.train.ann_file: the annotation list {listed} does not '
                          'exist. Its paths are relative to '
                          'data.train.data_prefix=data/kinetics400/train_256. Write it with '
                          f'`{KINETICS_LIST}` (tools/data/kinetics/README.md)')
    assert '--cfg-options data.train.ann_file=LIST data.train.data_prefix=FOLDER' in err


def test_a_missing_checkpoint_is_one_message(capsys, tmp_path):
    ann = tmp_path / 'val.txt'
    ann.write_text('a.mp4 0\n')
    status, err = _message(capsys, 'test', [K400, str(tmp_path / 'epoch_30.pth'), '--eval',
                                            'top_k_accuracy', '--cfg-options',
                                            f'data.test.ann_file={ann}'])
    assert status == 2
    assert (f'error: CHECKPOINT (the second argument of tools/test.py): the checkpoint '
            f'{tmp_path / "epoch_30.pth"} does not exist') in err


def test_a_class_that_refuses_a_config_value_is_one_message(capsys, tmp_path):
    ann = tmp_path / 'val.txt'
    ann.write_text('a.mp4 0\n')
    torch.save({'meta': {}}, tmp_path / 'x.pth')
    status, err = _message(capsys, 'test', [K400, str(tmp_path / 'x.pth'), '--eval',
                                            'top_k_accuracy', '--cfg-options',
                                            f'data.test.ann_file={ann}',
                                            'model.backbone.type=ViT_CLP'])
    assert status == 2
    assert 'building the model and the runner from it failed' in err and 'ViT_CLP' in err


def test_debug_and_aim_debug_show_the_traceback(monkeypatch):
    train = _tool('train')
    with pytest.raises(ConfigError):
        run_tool(train.main, [K400, '--debug', '--cfg-options', 'data.videos_per_gpu=two'])
    monkeypatch.setenv('AIM_DEBUG', '1')
    with pytest.raises(FileNotFoundError, match='data.train.ann_file: the annotation list'):
        run_tool(train.main, [K400])


def test_the_command_exits_with_status_2_and_a_message():
    out = subprocess.run([sys.executable, 'tools/train.py', K400], cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 2
    assert 'Traceback' not in out.stderr
    assert out.stderr.startswith('error: data.train.ann_file:')
    debug = subprocess.run([sys.executable, 'tools/train.py', K400, '--debug'], cwd=ROOT,
                           env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True,
                           text=True, timeout=300)
    assert debug.returncode == 1 and 'Traceback' in debug.stderr


def test_library_calls_raise_typed_exceptions(tmp_path):
    from mmaction.apis import init_recognizer
    from mmaction.datasets import VideoDataset
    with pytest.raises(ConfigError):
        _tool('train').main([K400, '--cfg-options', 'data.videos_per_gpu=two'])
    with pytest.raises(FileNotFoundError, match=r'data/kinetics400/val.txt does not exist. '
                                                rf'Write it with `{KINETICS_LIST}`'):
        VideoDataset('data/kinetics400/val.txt', [])
    config = 'configs/recognition/vit/vitclip_base_diving48.py'
    small = {'model.backbone.width': 64, 'model.backbone.layers': 1, 'model.backbone.heads': 2,
             'model.cls_head.in_channels': 64, 'model.backbone.pretrained': None}
    with pytest.raises(FileNotFoundError, match='nope.pth does not exist'):
        init_recognizer(config, str(tmp_path / 'nope.pth'), cfg_options=small)
    (tmp_path / 'junk.pth').write_bytes(b'not a checkpoint')
    torch.save({'weights': [1, 2]}, tmp_path / 'other.pth')
    with pytest.raises(CheckpointError, match="other.pth: expected {'meta': ..., "):
        init_recognizer(config, str(tmp_path / 'other.pth'), cfg_options=small)
