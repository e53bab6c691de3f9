"""tools/analysis/report_accuracy.py and get_weighted_score: the fused scores against the
weighted sum written out by hand, the accuracies against a hand count, and the refusals of
files that are not of the same videos."""
import numpy as np
import pytest

from mmaction.engine.launch import run_tool
from mmaction.evaluation import get_weighted_score
from mmaction.evaluation.results import ResultsError
from tests.test_tools.results_files import write_list, write_results
from tests.test_tools.test_get_flops import load_tool

HINT = '(add --debug, or set AIM_DEBUG=1, to see the traceback)'
LABELS = [0, 1, 2, 1, 0]
A = [[0.5, 0.3, 0.2],     # label 0: hit
     [0.2, 0.3, 0.5],     # label 1: miss (2nd: a top-2 hit)
     [0.1, 0.2, 0.7],     # label 2: hit
     [0.45, 0.4, 0.15],   # label 1: miss (2nd)
     [0.9, 0.05, 0.05]]   # video 4: B could not decode it, left out of every number
B = [[0.25, 0.4, 0.35],   # miss, not in the top 2
     [0.1, 0.8, 0.1],     # hit
     [0.35, 0.4, 0.25],   # miss, not in the top 2
     [0.2, 0.6, 0.2],     # hit
     [0.3, 0.3, 0.4]]
# A + 0.5 B: [.625 .5 .375] [.25 .7 .55] [.275 .4 .825] [.55 .7 .25]: all four hit
HAND = {'A.pkl': dict(top1_acc=2 / 4, top2_acc=4 / 4, mean_class_accuracy=(1 + 0 + 1) / 3),
        'B.pkl': dict(top1_acc=2 / 4, top2_acc=2 / 4, mean_class_accuracy=(0 + 1 + 0) / 3),
        'fused': dict(top1_acc=1.0, top2_acc=1.0, mean_class_accuracy=1.0)}


@pytest.fixture
def files(tmp_path):
    ann = write_list(tmp_path / 'test.txt', LABELS)
    return dict(ann=ann, root=tmp_path,
                a=write_results(tmp_path / 'A.pkl', ann, A),
                b=write_results(tmp_path / 'B.pkl', ann, B, failed={4}))


def test_fused_scores_and_accuracies_equal_the_hand_computed(files, capsys):
    tool = load_tool('report_accuracy')
    result = tool.main(['--scores', files['a'], files['b'], '--coefficients', '1', '0.5',
                        '--datalist', files['ann'], '--top-k', '1', '2'])
    weighted = np.array(A) + 0.5 * np.array(B)
    np.testing.assert_allclose(result['fused'][:4], weighted[:4], rtol=1e-6)
    assert np.isnan(result['fused'][4]).all() and result['kept'].tolist() == [1, 1, 1, 1, 0]
    for name, weight, row in result['rows']:
        assert row == pytest.approx(HAND[name]), name
    printed = capsys.readouterr().out
    assert '4 videos, 3 classes (1 left out: not decoded in some file)' in printed
    assert 'Mean Class Accuracy: 1.0000\nTop 1 Accuracy: 1.0000\nTop 2 Accuracy: 1.0000' \
        in printed
    assert 'A.pkl            1    0.5000    1.0000               0.6667' in printed


def test_softmax_applies_to_each_file_before_the_weights(files):
    tool = load_tool('report_accuracy')
    result = tool.main(['--scores', files['a'], files['b'], '--coefficients', '2', '1',
                        '--datalist', files['ann'], '--apply-softmax'])

    def softmax(rows):
        e = np.exp(np.array(rows, dtype=np.float64))
        return e / e.sum(axis=1, keepdims=True)

    np.testing.assert_allclose(result['fused'][:4], (2 * softmax(A) + softmax(B))[:4],
                               rtol=1e-6)


def test_get_weighted_score_takes_0x_lists_of_arrays():
    fused = get_weighted_score([[np.array(r) for r in A], [np.array(r) for r in B]], [1, 0.5])
    assert isinstance(fused, list) and len(fused) == 5
    np.testing.assert_allclose(fused, np.array(A) + 0.5 * np.array(B))
    with pytest.raises(ResultsError, match='2 sets of scores but 1 coefficients'):
        get_weighted_score([A, B], [1])
    with pytest.raises(ResultsError, match=r'shapes \[\(5, 3\), \(4, 3\)\]'):
        get_weighted_score([A, B[:4]], [1, 1])


def _refusal(capsys, argv):
    """run_tool's exit status and its one message for ``argv``."""
    status = run_tool(load_tool('report_accuracy').main, argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 2 and lines[1] == HINT, lines
    assert lines[0].startswith('error: ')
    return lines[0]


def test_files_that_are_not_of_the_same_videos_are_refused(files, capsys):
    root, ann = files['root'], files['ann']
    message = _refusal(capsys, ['--scores', files['a'], files['b'], '--coefficients', '1'])
    assert '2 --scores files but 1 --coefficients' in message
    four = write_results(root / 'four.pkl', write_list(root / 'four.txt', LABELS[:4]), A[:4])
    message = _refusal(capsys, ['--scores', files['a'], four, '--datalist', ann])
    assert 'A.pkl has 5 videos but' in message and 'four.pkl has 4' in message
    wide = write_results(root / 'wide.pkl', ann, [r + [0.0] for r in B])
    message = _refusal(capsys, ['--scores', files['a'], wide, '--datalist', ann])
    assert 'A.pkl scores 3 classes but' in message and 'wide.pkl scores 4' in message
    # the same videos listed in another order: another sha256
    order = [4, 3, 2, 1, 0]
    other = write_list(root / 'other.txt', [LABELS[i] for i in order],
                       [f'v{i}.mp4' for i in order])
    shuffled = write_results(root / 'C.pkl', other, [B[i] for i in order])
    message = _refusal(capsys, ['--scores', files['a'], shuffled, '--datalist', ann])
    assert f'A.pkl is of {ann} (sha256 ' in message and f'C.pkl of {other}' in message
    assert 'add --force' in message
    message = _refusal(capsys, ['--scores', files['a'], files['b'], '--datalist', other])
    assert 'A.pkl is of' in message and 'other.txt has sha256' in message
    # --dump records: the names at a position differ
    names = [f'v{i}.mp4' for i in (1, 0, 2, 3, 4)]
    d1 = write_results(root / 'd1.pkl', ann, A, item_format='samples')
    d2 = write_results(root / 'd2.pkl', ann, B, item_format='samples', names=names)
    message = _refusal(capsys, ['--scores', d1, d2])
    assert 'video 0 is v0.mp4 in' in message and 'but v1.mp4 in' in message
    # --force fuses them all the same; the labels come from the records
    result = load_tool('report_accuracy').main(['--scores', d1, d2, '--force',
                                                '--top-k', '1'])
    assert result['labels'].tolist() == LABELS


def test_without_labels_the_list_is_asked_for(files, capsys):
    message = _refusal(capsys, ['--scores', files['a'], files['b']])
    assert ('give the annotation list the test ran on with --datalist (the files were tested '
            f'on {files["ann"]})') in message
