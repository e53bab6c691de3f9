"""tools/analysis/confusion_matrix.py against a matrix counted by hand."""
import json
import pickle

import numpy as np
import pytest

from mmaction.evaluation import class_confusion_matrix
from tests.test_tools.test_get_flops import load_tool

NAMES = ['left', 'right', 'up']


def _record(name, gt, score, failed=False):
    """A record as tools/test.py --dump writes it (DumpResults, item_format='samples')."""
    score = np.asarray(score, dtype=np.float32)
    record = dict(filename=name, gt_label=gt, pred_label=int(
        (score.mean(0) if score.ndim == 2 else score).argmax()), pred_score=score,
                  decode_failed=failed)
    if failed:
        record['error'] = 'moov atom not found'
    return record


RECORDS = [
    _record('a.mp4', 0, [0.7, 0.2, 0.1]),                       # 0 -> 0
    _record('b.mp4', 0, [0.2, 0.5, 0.3]),                       # 0 -> 1
    _record('c.mp4', 1, [0.1, 0.8, 0.1]),                       # 1 -> 1
    _record('d.mp4', 1, [[0.1, 0.1, 0.8], [0.2, 0.1, 0.7]]),    # 1 -> 2 (views averaged)
    _record('e.mp4', 1, [0.1, 0.6, 0.3]),                       # 1 -> 1
    _record('f.mp4', 2, [0.9, 0.05, 0.05], failed=True),        # left out
    _record('g.mp4', 0, [0.6, 0.3, 0.1]),                       # 0 -> 0
]
# rows: true class, columns: predicted, counted from the comments above; class 2 has none
HAND = np.array([[2, 1, 0],
                 [0, 2, 1],
                 [0, 0, 0]])


@pytest.fixture
def files(tmp_path):
    dump_pkl = tmp_path / 'dump.pkl'
    dump_pkl.write_bytes(pickle.dumps(RECORDS, protocol=4))
    dump_json = tmp_path / 'dump.json'
    dump_json.write_text(json.dumps(RECORDS, default=lambda a: a.tolist()))
    label_map = tmp_path / 'label_map.txt'
    label_map.write_text('\n'.join(NAMES) + '\n')
    # --out: one score array per annotation line, NaN for the video that failed
    out = tmp_path / 'out.pkl'
    out.write_bytes(pickle.dumps([np.full(3, np.nan, np.float32) if r['decode_failed']
                                  else r['pred_score'] for r in RECORDS], protocol=4))
    ann = tmp_path / 'val.txt'
    ann.write_text(''.join(f'videos/{r["filename"]} {r["gt_label"]}\n' for r in RECORDS))
    return dict(pkl=str(dump_pkl), json=str(dump_json), label_map=str(label_map),
                out=str(out), ann=str(ann), root=tmp_path)


def test_counts_equal_the_hand_count(files, capsys):
    tool = load_tool('confusion_matrix')
    png = files['root'] / 'cm.png'
    result = tool.main([files['pkl'], '--label-map', files['label_map'], '--out', str(png)])
    np.testing.assert_array_equal(result['counts'], HAND)
    np.testing.assert_array_equal(result['matrix'], HAND)
    np.testing.assert_allclose(result['per_class_accuracy'], [2 / 3, 2 / 3, np.nan])
    assert result['failed'] == ['f.mp4']
    printed = capsys.readouterr().out
    assert 'Confusion matrix of 6 videos' in printed
    assert ('             0 1 2\n   0  left   2 1 0\n   1  right  0 2 1\n'
            '   2  up     0 0 0\n') in printed
    assert '   0  left   0.6667  (2/3)' in printed and '   2  up     no videos  (0/0)' in printed
    assert '1 videos could not be decoded and are left out: [\'f.mp4\']' in printed
    assert 'top-1 accuracy 0.6667, mean class accuracy 0.6667' in printed
    assert png.read_bytes().startswith(b'\x89PNG') and png.stat().st_size > 5000
    ax = result['figure'].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    assert [t.get_text() for t in ax.get_yticklabels()] == NAMES
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), HAND)
    assert sorted(t.get_text() for t in ax.texts) == sorted(str(v) for v in HAND.ravel())


def test_normalized_rows_and_the_other_formats(files):
    tool = load_tool('confusion_matrix')
    expected = np.array([[2 / 3, 1 / 3, 0], [0, 2 / 3, 1 / 3], [0, 0, 0]])
    for argv in ([files['json']], [files['out'], '--ann-file', files['ann']]):
        result = tool.main(argv + ['--normalize'])
        np.testing.assert_allclose(result['matrix'], expected)
        np.testing.assert_array_equal(result['counts'], HAND)
        assert len(result['failed']) == 1


def test_class_confusion_matrix_function():
    gt, pred = np.array([0, 0, 1, 1, 1, 0]), np.array([0, 1, 1, 2, 1, 0])
    np.testing.assert_array_equal(class_confusion_matrix(gt, pred, 3), HAND)
    np.testing.assert_allclose(class_confusion_matrix(gt, pred, 3, 'pred'),
                               [[1, 1 / 3, 0], [0, 2 / 3, 1], [0, 0, 0]])
    np.testing.assert_allclose(class_confusion_matrix(gt, pred, 3, 'all'), HAND / 6)
    with pytest.raises(ValueError, match=r'outside 0..1 \(num_classes=2\)'):
        class_confusion_matrix(gt, pred, 2)


def test_inputs_that_cannot_work_are_refused(files, tmp_path):
    tool = load_tool('confusion_matrix')
    with pytest.raises(ValueError, match='holds scores only.*--ann-file'):
        tool.main([files['out']])
    short = tmp_path / 'short.txt'
    short.write_text('a.mp4 0\n')
    with pytest.raises(ValueError, match='has 7 results but .*short.txt has 1 samples'):
        tool.main([files['out'], '--ann-file', str(short)])
    wrong_map = tmp_path / 'two.txt'
    wrong_map.write_text('a\nb\n')
    with pytest.raises(SystemExit, match='names 2 classes but the scores .* have 3'):
        tool.main([files['pkl'], '--label-map', str(wrong_map)])
    evil = tmp_path / 'evil.pkl'
    evil.write_bytes(pickle.dumps([{'filename': print}]))
    with pytest.raises(ValueError, match='builtins.print is not allowed'):
        tool.main([str(evil)])
