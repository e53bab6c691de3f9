"""A broken weights file (not a checkpoint, truncated, empty, written by a newer torch) is
one sentence naming the file and what is wrong, from every reader of weights: tools/test.py,
tools/train.py's load_from and --resume, a backbone's pretrained, init_recognizer,
tools/publish_checkpoint.py. The tools exit with status 2; --resume passes over a truncated
latest checkpoint for the previous intact one and says so."""
import importlib.util
import logging
import os.path as osp
import zipfile

import pytest
import torch
from mmengine.logging import MMLogger

from mmaction.checkpoint import CheckpointError, read_checkpoint
from mmaction.engine.commands import build_train_config, parse_train_args
from mmaction.engine.launch import run_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
K400 = 'configs/recognition/vit/vitclip_base_k400.py'
DIVING = 'configs/recognition/vit/vitclip_base_diving48.py'
SMALL = {'model.backbone.width': 64, 'model.backbone.layers': 1, 'model.backbone.heads': 2,
         'model.cls_head.in_channels': 64, 'model.backbone.pretrained': None}
TRUNCATED = ('truncated: a torch zip archive cut short at 1000 bytes (the zip directory that '
             'ends a complete file is missing, and the full size is recorded only there); '
             'copy it again or use an earlier checkpoint.')
JUNK = ("not a checkpoint: its 16 bytes begin b'not ', but a torch checkpoint is a zip "
        "archive (beginning b'PK\\x03\\x04') or a legacy torch pickle.")


def _tool(path):
    spec = importlib.util.spec_from_file_location(f'tool_{osp.basename(path)[:-3]}',
                                                  osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    monkeypatch.delenv('AIM_DEBUG', raising=False)
    monkeypatch.chdir(ROOT)


@pytest.fixture
def files(tmp_path):
    """A whole checkpoint, the same cut short at 1000 bytes, junk, an empty file, and the
    whole one with the format version of a future torch."""
    whole = tmp_path / 'whole.pth'
    torch.save({'meta': {}, 'state_dict': {'w': torch.arange(1000.)}}, whole)
    (tmp_path / 'truncated.pth').write_bytes(whole.read_bytes()[:1000])
    (tmp_path / 'junk.pth').write_bytes(b'not a checkpoint')
    (tmp_path / 'empty.pth').write_bytes(b'')
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(tmp_path / 'newer.pth', 'w') as dst:
        for info in src.infolist():  # torch's own record of its format version, bumped
            is_version = info.filename.endswith('/version') and '/.data/' not in info.filename
            dst.writestr(info, b'99\n' if is_version else src.read(info))
    return {p.stem: str(p) for p in tmp_path.iterdir()}


def _one_message(capsys, main, argv):
    status = run_tool(main, argv)
    err = capsys.readouterr().err  # (the command's stderr, without a traceback: test_tools_cli)
    message = err[err.index('error: '):].splitlines()
    assert message[1:] == ['(add --debug, or set AIM_DEBUG=1, to see the traceback)']
    return status, message[0]


def test_the_reader_says_what_is_wrong_in_one_sentence(files):
    for name, what in (('truncated', TRUNCATED), ('junk', JUNK),
                       ('empty', 'the file is empty (0 bytes).')):
        with pytest.raises(CheckpointError) as err:
            read_checkpoint(files[name])
        assert str(err.value) == f'{files[name]}: {what}'
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(files['newer'])
    assert str(err.value) == (
        f'{files["newer"]}: written by a newer PyTorch than this one ({torch.__version__}): '
        'its file format version is 99, this torch reads versions up to 10. Upgrade torch to '
        'load it.')
    assert torch.equal(read_checkpoint(files['whole'])['state_dict']['w'], torch.arange(1000.))


@pytest.mark.parametrize('name, what', [('junk', JUNK), ('truncated', TRUNCATED)])
def test_tools_test_names_the_file_and_exits_2(capsys, files, tmp_path, name, what):
    ann = tmp_path / 'val.txt'
    ann.write_text('a.mp4 0\n')
    status, message = _one_message(capsys, _tool('tools/test.py').main, [
        K400, files[name], '--eval', 'top_k_accuracy', '--cfg-options',
        f'data.test.ann_file={ann}'])
    assert status == 2
    assert message == f'error: CHECKPOINT (the second argument of tools/test.py): ' \
                      f'{files[name]}: {what}'


def test_load_from_names_the_file_and_exits_2(capsys, files, tmp_path):
    ann = tmp_path / 'train.txt'
    ann.write_text('a.mp4 0\n')
    status, message = _one_message(capsys, _tool('tools/train.py').main, [
        K400, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
        f'data.train.ann_file={ann}', f'load_from={files["truncated"]}'])
    assert status == 2
    assert message == f'error: load_from: {files["truncated"]}: {TRUNCATED}'


def test_pretrained_and_init_recognizer_raise_checkpoint_error(files):
    from mmaction.apis import init_recognizer
    with pytest.raises(CheckpointError) as err:
        init_recognizer(DIVING, files['truncated'], cfg_options=SMALL)
    assert str(err.value) == f'{files["truncated"]}: {TRUNCATED}'
    with pytest.raises(CheckpointError) as err:  # the backbone's CLIP file
        init_recognizer(DIVING, None, cfg_options={
            **SMALL, 'model.backbone.pretrained': files['junk']})
    assert str(err.value) == f'{files["junk"]}: {JUNK}'


def test_publish_checkpoint_names_the_file_and_exits_2(capsys, files, tmp_path):
    status, message = _one_message(capsys, _tool('tools/publish_checkpoint.py').main,
                                   [files['truncated'], str(tmp_path / 'out.pth')])
    assert status == 2
    assert message == f'error: {files["truncated"]}: {TRUNCATED}'
    assert not (tmp_path / 'out.pth').exists()


def test_resume_passes_over_a_truncated_latest_checkpoint_and_says_so(files, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    intact, latest = str(work / 'epoch_1.pth'), str(work / 'iter_5.pth')
    torch.save({'meta': {}}, intact)
    with open(files['truncated'], 'rb') as src, open(latest, 'wb') as dst:
        dst.write(src.read())
    (work / 'last_checkpoint').write_text(latest)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    # a logger of this test's own, at INFO, as current: what earlier tests left current may
    # be set to another level
    logger = MMLogger.get_instance(f'resume_skip_{id(records)}', log_level='INFO')
    logger.addHandler(handler)
    try:
        cfg = build_train_config(parse_train_args([K400, '--work-dir', str(work), '--resume']))
    finally:
        logger.removeHandler(handler)
    assert (cfg.load_from, cfg.resume) == (intact, True)
    said = [(r.levelname, r.getMessage()) for r in records if '--resume' in r.getMessage()]
    assert said == [('WARNING', f'--resume: skipping {latest}: {TRUNCATED[:-1]}'),
                    ('INFO', f'--resume: continuing from {intact}')]
