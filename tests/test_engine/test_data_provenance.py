"""Which data a number came from, through the real tools: the validation log line of
tools/train.py --validate, tools/test.py's report (log line and JSON log) and its --out
results' sidecar name the list they scored (path and sha256) and its videos listed, found,
evaluated and unreadable."""
import glob
import hashlib
import json
import os.path as osp
import pickle

import numpy as np
import pytest

from tests.test_engine.test_clip_length_tools import COLOURS, CONFIG, _encode, _run

# the tiny colour model of test_clip_length_tools, validated on its test list
VALIDATE = "\ndata['val'] = data['test']\n"


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One epoch on 4 videos, validated on a list of 6: 4 good, 1 missing, 1 truncated."""
    root = tmp_path_factory.mktemp('provenance')
    train, test = [], []
    for label, colour in enumerate(COLOURS):
        _encode(str(root / f'train_{label}.mp4'), colour, label, frames=16)
        _encode(str(root / f'test_{label}.mp4'), colour, 10 + label, frames=16)
        train.append(f'train_{label}.mp4 {label}\n')
        test.append(f'test_{label}.mp4 {label}\n')
    data = (root / 'test_0.mp4').read_bytes()
    (root / 'truncated.mp4').write_bytes(data[:len(data) // 2])
    test += ['missing.mp4 1\n', 'truncated.mp4 2\n']
    (root / 'train.txt').write_text(''.join(train))
    (root / 'test.txt').write_text(''.join(test))
    config = root / 'colours.py'
    config.write_text(CONFIG.format(root=root) + VALIDATE)
    work = root / 'work'
    log = _run('tools/train.py', str(config), '--work-dir', str(work), '--seed', '0',
               '--validate', '--cfg-options', 'total_epochs=1', 'evaluation.interval=1',
               'checkpoint_config.interval=1')
    sha256 = hashlib.sha256((root / 'test.txt').read_bytes()).hexdigest()
    return dict(root=root, config=str(config), ckpt=str(work / 'epoch_1.pth'), log=log,
                ann=str(root / 'test.txt'), sha256=sha256)


def test_validation_log_names_the_list_and_its_sha256(trained):
    assert (f"Accuracy over 4 of 6 videos of {trained['ann']} (sha256 {trained['sha256']}; "
            '6 listed, 5 found)') in trained['log']
    assert '1 of the 6 videos of' in trained['log']  # the missing one, when the list is read


def test_test_report_and_out_results_record_the_list(trained):
    work = trained['root'] / 'test'
    out = str(trained['root'] / 'results.pkl')
    log = _run('tools/test.py', trained['config'], trained['ckpt'], '--eval', 'top_k_accuracy',
               '--out', out, '--work-dir', str(work))
    expected = dict(ann_file=trained['ann'], sha256=trained['sha256'], listed=6, found=5,
                    evaluated=6, unreadable=2)
    # the report: the final log line and the JSON log of the test run
    line = [x for x in log.splitlines() if 'Epoch(test)' in x and 'top1_acc' in x][-1]
    assert f'data: {expected}' in line
    report = json.loads(open(glob.glob(str(work / '*' / '*.json'))[-1]).read())
    assert report['data'] == expected
    # --out keeps mmaction2 0.x's format: one score array per annotation line
    with open(out, 'rb') as f:
        scores = pickle.load(f)
    assert isinstance(scores, list) and len(scores) == 6
    assert np.isnan(scores[4]).all() and np.isnan(scores[5]).all()
    with open(f'{out}.meta.json') as f:
        meta = json.load(f)
    assert meta['data'] == expected
    assert meta['results'] == osp.basename(out) and meta['item_format'] == 'scores'
    assert [u['filename'] for u in meta['unreadable_files']] == [
        str(trained['root'] / 'missing.mp4'), str(trained['root'] / 'truncated.mp4')]
