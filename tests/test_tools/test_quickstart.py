"""tools/quickstart.py end to end at tiny sizes (the README's first command, shrunk)."""
import importlib.util
import json
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[2]


def load_quickstart():
    spec = importlib.util.spec_from_file_location('quickstart', ROOT / 'tools' / 'quickstart.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_quickstart_trains_tests_and_draws(tmp_path, capsys):
    quickstart = load_quickstart()
    argv = ['--tiny', '--work-dir', str(tmp_path / 'wd'), '--data-root', str(tmp_path / 'data')]
    out = quickstart.main(argv)
    printed = capsys.readouterr().out

    wd = tmp_path / 'wd'
    assert Path(out['checkpoint']) == wd / 'epoch_1.pth' and Path(out['checkpoint']).is_file()
    records = json.loads((wd / 'test_results.json').read_text())
    val = [line.split() for line in (tmp_path / 'data' / 'val.txt').read_text().splitlines()]
    assert [r['gt_label'] for r in records] == [int(label) for _, label in val]
    assert out['num_videos'] == len(val) == 4
    correct = sum(r['pred_label'] == r['gt_label'] for r in records)
    assert out['top1_acc'] == correct / 4
    for png in ('training_curve.png', 'confusion_matrix.png'):
        img = cv2.imread(str(wd / png))
        assert img is not None and min(img.shape[:2]) > 200 and img.std() > 5
    assert f"top-1 {100 * out['top1_acc']:.1f}%" in printed
    assert 'tunable parameters' in printed
    # AIM's rule: only adapters, temporal_embedding, ln_post and the head train
    assert 0 < out['params']['trainable'] < 0.2 * out['params']['total']

    # a second run reuses the data and the image model
    quickstart.main(argv)
    again = capsys.readouterr().out
    assert 'videos: reusing' in again and 'image model: reusing' in again
