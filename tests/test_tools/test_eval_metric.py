"""tools/analysis/eval_metric.py rescoring what tools/test.py wrote, against accuracies
counted by hand, and its refusals of results that are not of the config's test list."""
import json

import pytest

from mmaction.engine.config import ConfigError
from mmaction.engine.launch import run_tool
from mmaction.evaluation.results import ResultsError
from tests.test_tools.results_files import TINY, write_list, write_results
from tests.test_tools.test_get_flops import load_tool

LABELS = [0, 0, 1, 2, 3, 3]
SCORES = [
    [0.6, 0.2, 0.1, 0.1],                            # label 0: top-1 hit
    [0.3, 0.4, 0.2, 0.1],                            # label 0: 2nd best, a top-2 hit
    [[0.1, 0.9, 0.1, 0.1], [0.1, 0.5, 0.1, 0.1]],    # label 1: two views, mean hits
    [0.5, 0.1, 0.3, 0.1],                            # label 2: 2nd best, a top-2 hit
    [0.1, 0.2, 0.3, 0.4],                            # label 3: top-1 hit
    [0.9, 0.05, 0.03, 0.02],                         # label 3: not decoded, left out
]
# over the 5 decoded videos: top-1 3/5, top-2 5/5; per class 1/2, 1/1, 0/1, 1/1 (class 3:
# the decoded one of two)
TOP1, TOP2, MEAN_CLASS = 3 / 5, 5 / 5, (1 / 2 + 1 + 0 + 1) / 4


def _options(ann):
    return ['--cfg-options', f'data.test.ann_file={ann}', 'model.cls_head.num_classes=4']


@pytest.fixture
def run(tmp_path):
    ann = write_list(tmp_path / 'test.txt', LABELS)
    out = write_results(tmp_path / 'results.pkl', ann, SCORES, failed={5})
    return dict(ann=ann, out=out, root=tmp_path)


def test_rescored_accuracies_equal_the_hand_count(run, capsys):
    tool = load_tool('eval_metric')
    values = tool.main([TINY, run['out'], '--eval', 'top_k_accuracy', 'mean_class_accuracy',
                        '--eval-options', 'topk=1,2', *_options(run['ann'])])
    assert values['top1_acc'] == pytest.approx(TOP1)
    assert values['top2_acc'] == pytest.approx(TOP2)
    assert values['mean_class_accuracy'] == pytest.approx(MEAN_CLASS)
    assert values['data']['evaluated'] == 6 and values['data']['unreadable'] == 1
    printed = capsys.readouterr().out
    assert 'top1_acc\t0.6000\ntop2_acc\t1.0000\nmean_class_accuracy\t0.6250' in printed
    assert f"videos of {run['ann']} (sha256 " in printed  # the sidecar's provenance
    # without --eval: the config's evaluation.metrics and its topk; --eval-options topk
    # replaces the config's (as in 0.x, where the options update the evaluation arguments)
    config_topk = [*_options(run['ann']), 'evaluation.topk=(1,3)']
    values = tool.main([TINY, run['out'], *config_topk])
    assert sorted(values) == ['data', 'mean_class_accuracy', 'top1_acc', 'top3_acc']
    assert values['top3_acc'] == 1.0
    values = tool.main([TINY, run['out'], '--eval-options', 'topk=2', *config_topk])
    assert sorted(values) == ['data', 'mean_class_accuracy', 'top2_acc']


def test_a_dump_file_is_rescored_too_and_its_names_checked(run, tmp_path):
    tool = load_tool('eval_metric')
    dump = write_results(tmp_path / 'dump.json', run['ann'], SCORES, failed={5},
                         item_format='samples')
    values = tool.main([TINY, dump, '--eval', 'top_k_accuracy', *_options(run['ann'])])
    assert values['top1_acc'] == pytest.approx(TOP1)
    # the same list bytes, but the records name other videos at position 0 and 1
    names = [f'v{i}.mp4' for i in (1, 0, 2, 3, 4, 5)]
    swapped = write_results(tmp_path / 'swapped.pkl', run['ann'], SCORES, failed={5},
                            item_format='samples', names=names)
    with pytest.raises(ResultsError, match=r'sample 0 of .*test.txt is \S*/v0.mp4 but .*swapped'
                       r'.pkl has v1.mp4 there'):
        tool.main([TINY, swapped, *_options(run['ann'])])


def test_results_of_another_list_are_refused_unless_forced(run, tmp_path, capsys):
    tool = load_tool('eval_metric')
    # the same videos in another order: same count, other sha256
    other = write_list(tmp_path / 'other.txt', LABELS[::-1],
                       [f'v{i}.mp4' for i in reversed(range(6))])
    argv = [TINY, run['out'], '--eval', 'top_k_accuracy', *_options(other)]
    assert run_tool(tool.main, argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith('error: ')
    assert f"results.pkl is of {run['ann']} (sha256 " in lines[0]
    assert 'other.txt has sha256' in lines[0] and 'add --force' in lines[0]
    values = tool.main(argv + ['--force'])
    assert '--force: ' in capsys.readouterr().out
    # scored against the reversed labels [3, 3, 2, 1, 0, 0]: no video's best class is its label
    assert values['top1_acc'] == 0.0
    # another number of samples cannot be forced
    short = write_list(tmp_path / 'short.txt', LABELS[:5])
    with pytest.raises(ResultsError, match='has 6 results but .*short.txt lists 5 samples'):
        tool.main([TINY, run['out'], '--force', *_options(short)])


def test_a_sidecar_of_another_run_and_unknown_options_are_refused(run):
    tool = load_tool('eval_metric')
    with pytest.raises(ConfigError, match='--eval-options topks: AccMetric takes '):
        tool.main([TINY, run['out'], '--eval-options', 'topks=1', *_options(run['ann'])])
    meta = run['out'] + '.meta.json'
    with open(meta) as f:
        content = json.load(f)
    content['data']['evaluated'] = 7
    with open(meta, 'w') as f:
        json.dump(content, f)
    with pytest.raises(ResultsError, match='records 7 videos but .*results.pkl has 6: the '
                       'sidecar is of another run'):
        tool.main([TINY, run['out'], *_options(run['ann'])])
