"""tools/analysis/analyze_logs.py: the curves asked for, from the logs our runs write."""
import json
import sys
from pathlib import Path

import pytest

from mmaction.utils.train_log import read_training_log
from tests.test_tools.test_get_flops import load_tool

pytest.importorskip('matplotlib')


def _train(epoch, it, loss, acc, time):
    """A training record as mmengine's LoggerHook writes it to vis_data/scalars.json."""
    return dict(base_lr=1e-4, lr=1e-3, data_time=0.01, loss=loss, top1_acc=acc, top5_acc=1.0,
                loss_cls=loss, time=time, epoch=epoch, iter=it, step=it)


def _val(epoch, acc):
    return dict(top1_acc=acc, top5_acc=1.0, mean_class_accuracy=acc, data_time=0.02,
                time=0.05, step=epoch)


def _write_run(run_dir, records):
    path = Path(run_dir) / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))
    return str(path)


@pytest.fixture
def runs(tmp_path):
    """Run A: 4 iterations per epoch, logged every 2; killed in epoch 2 and resumed, so its
    work dir holds two timestamped runs. Run B: a text log only."""
    work_a = tmp_path / 'aim_a'
    _write_run(work_a / '20240101_000000', [
        _train(1, 2, 1.40, 0.25, 0.9), _train(1, 4, 1.30, 0.50, 0.5), _val(1, 0.30),
        _train(2, 6, 9.99, 0.00, 0.4)])  # lost: the resumed run redoes epoch 2
    _write_run(work_a / '20240101_010000', [
        _train(2, 6, 1.20, 0.50, 0.7), _train(2, 8, 1.10, 0.75, 0.3), _val(2, 0.60)])
    text = tmp_path / 'aim_b' / '20240102_000000' / '20240102_000000.log'
    text.parent.mkdir(parents=True)
    text.write_text(
        '2024/01/02 00:00:01 - mmengine - INFO - Tunable parameters: 0.03M of 0.25M\n'
        '2024/01/02 00:00:02 - mmengine - INFO - Epoch(train) [1][ 3/10]  base_lr: '
        '2.0000e-04 lr: 2.0000e-03  eta: 0:00:09  time: 0.3418  data_time: 0.0374  '
        'loss: 1.5000  top1_acc: 0.2500  top5_acc: 1.0000  loss_cls: 1.5000\n'
        '2024/01/02 00:00:03 - mmengine - INFO - Epoch(train) [1][10/10]  base_lr: '
        '2.0000e-04 lr: 2.0000e-03  eta: 0:00:05  time: 0.2000  data_time: 0.0300  '
        'loss: 1.2500  top1_acc: 0.5000  top5_acc: 1.0000  loss_cls: 1.2500\n'
        '2024/01/02 00:00:03 - mmengine - INFO - Epoch(val) [1][2/2]    eta: 0:00:00  '
        'time: 0.1356  data_time: 0.0247\n'
        '2024/01/02 00:00:03 - mmengine - INFO - Epoch(val) [1][2/2]    top1_acc: 0.4000  '
        'top5_acc: 1.0000  mean_class_accuracy: 0.4000  data_time: 0.0247  time: 0.1356\n'
        '2024/01/02 00:00:04 - mmengine - INFO - Epoch(train) [2][ 5/10]  base_lr: '
        '2.0000e-04 lr: 2.0000e-03  eta: 0:00:01  time: 0.1000  data_time: 0.0300  '
        'loss: 1.0000  top1_acc: 0.7500  top5_acc: 1.0000  loss_cls: 1.0000\n'
        '2024/01/02 00:00:05 - mmengine - INFO - Epoch(test) [4/4]    top1_acc: 0.9000\n')
    return dict(a=str(work_a), b=str(text))


def _curves(ax):
    return [(line.get_label(), list(line.get_xdata()), list(line.get_ydata()))
            for line in ax.get_lines()]


def test_plot_curve_draws_exactly_the_requested_curves(runs, tmp_path):
    out = tmp_path / 'curve.png'
    fig = load_tool('analyze_logs').main(['plot_curve', runs['a'], runs['b'], '--keys', 'loss',
                                          'top1_acc', '--title', 'AIM', '--out', str(out)])
    data = out.read_bytes()
    assert data.startswith(b'\x89PNG') and len(data) > 5000
    loss_ax, acc_ax = fig.axes
    assert _curves(loss_ax) == [
        ('aim_a loss', [2, 4, 6, 8], [1.40, 1.30, 1.20, 1.10]),  # resumed run replaces iter 6
        ('aim_b loss', [3, 10, 15], [1.5, 1.25, 1.0])]  # epoch 2 iter 5 of 10 = iter 15
    # a bare top1_acc is the validation accuracy, per epoch (not the training batches')
    assert _curves(acc_ax) == [('aim_a top1_acc', [1, 2], [0.30, 0.60]),
                               ('aim_b top1_acc', [1], [0.4])]
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ['aim_a loss',
                                                                        'aim_b loss']
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ['aim_a top1_acc',
                                                                       'aim_b top1_acc']
    assert (loss_ax.get_xlabel(), acc_ax.get_xlabel()) == ('iteration', 'epoch')
    assert acc_ax.get_ylabel() == 'val/top1_acc'
    assert fig._suptitle.get_text() == 'AIM'


def test_legend_names_and_explicit_phase(runs, tmp_path):
    fig = load_tool('analyze_logs').main([
        'plot_curve', runs['a'], '--keys', 'train/top1_acc', 'lr', '--legend', 'ours',
        '--out', str(tmp_path / 'c.png')])
    assert [_curves(ax) for ax in fig.axes] == [
        [('ours train/top1_acc', [2, 4, 6, 8], [0.25, 0.5, 0.5, 0.75])],
        [('ours lr', [2, 4, 6, 8], [1e-3] * 4)]]


def test_missing_key_lists_the_keys_the_log_has(runs, tmp_path):
    with pytest.raises(SystemExit) as err:
        load_tool('analyze_logs').main(['plot_curve', runs['a'], '--keys', 'acc', '--out',
                                        str(tmp_path / 'c.png')])
    message = str(err.value)
    assert "'acc' is not in" in message and runs['a'] in message
    assert "training keys ['base_lr', 'data_time', 'loss', 'loss_cls', 'lr', 'time', " \
        "'top1_acc', 'top5_acc']" in message
    assert "validation keys ['data_time', 'mean_class_accuracy', 'time', 'top1_acc', " \
        "'top5_acc']" in message
    assert not (tmp_path / 'c.png').exists()


def test_without_matplotlib_the_install_hint(runs, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == 'matplotlib' or m.startswith('matplotlib.')]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, 'matplotlib', None)  # import matplotlib -> ImportError
    with pytest.raises(SystemExit, match=r'pip install -e "\.\[plots\]"'):
        load_tool('analyze_logs').main(['plot_curve', runs['a'], '--out',
                                        str(tmp_path / 'c.png')])


def test_cal_train_time(runs, capsys):
    summary, = load_tool('analyze_logs').main(['cal_train_time', runs['a']])
    # the first record of each epoch (data-loader start-up) is left out: epoch 1 -> 0.5,
    # epoch 2 -> 0.3 (the resumed run's records)
    assert summary['per_epoch'] == {1: 0.5, 2: pytest.approx(0.3)}
    assert summary['average'] == pytest.approx(0.4)
    assert (summary['slowest_epoch'], summary['fastest_epoch']) == (1, 2)
    assert summary['std'] == pytest.approx(0.1)
    printed = capsys.readouterr().out
    assert 'slowest epoch 1, average time is 0.5000 s/iter' in printed
    assert 'average iter time: 0.4000 s/iter' in printed
    summary, = load_tool('analyze_logs').main(['cal_train_time', runs['a'],
                                               '--include-outliers'])
    assert summary['per_epoch'] == {1: pytest.approx(0.7), 2: pytest.approx(0.5)}


def test_mmcv_logs_of_the_original_code(tmp_path):
    """The original AIM code (mmcv 1.x) wrote 'Epoch [e][i/N]' text lines and .log.json
    records with "mode"; both read with iterations counted over the run."""
    text = tmp_path / '20230831_122211.log'
    text.write_text(
        '2023-08-31 12:22:11,768 - mmaction - INFO - Epoch [1][4180/15027]\tlr: 6.003e-05, '
        'eta: 6 days, 8:30:03, time: 0.709, data_time: 0.001, memory: 5659, top1_acc: 0.0500, '
        'top5_acc: 0.3500, loss_cls: 3.4383, loss: 3.4383\n'
        '2023-09-01 12:22:11,768 - mmaction - INFO - Epoch(val) [1][3000]\ttop1_acc: 0.4100, '
        'top5_acc: 0.7000, mean_class_accuracy: 0.4000\n'
        '2023-09-01 12:30:11,768 - mmaction - INFO - Epoch [2][20/15027]\tlr: 6.1e-05, '
        'eta: 6 days, 1:00:00, time: 0.700, data_time: 0.001, memory: 5659, '
        'top1_acc: 0.1000, top5_acc: 0.4000, loss_cls: 3.0, loss: 3.0\n')
    log = read_training_log(str(text))
    assert log.series('loss') == ('iter', [4180.0, 15047.0], [3.4383, 3.0])
    assert log.series('top1_acc') == ('epoch', [1.0], [0.41])
    assert log.series('memory') == ('iter', [4180.0, 15047.0], [5659.0, 5659.0])
    records = [{'env_info': 'x', 'seed': 0},
               {'mode': 'train', 'epoch': 1, 'iter': 20, 'lr': 1e-4, 'loss': 2.0},
               {'mode': 'train', 'epoch': 1, 'iter': 40, 'lr': 1e-4, 'loss': 1.5},
               {'mode': 'val', 'epoch': 1, 'iter': 7, 'top1_acc': 0.5},
               {'mode': 'train', 'epoch': 2, 'iter': 20, 'lr': 1e-4, 'loss': 1.0}]
    js = tmp_path / '20230831_122211.log.json'
    js.write_text(''.join(json.dumps(r) + '\n' for r in records))
    log = read_training_log(str(js))
    assert log.series('loss') == ('iter', [20.0, 40.0, 60.0], [2.0, 1.5, 1.0])
    assert log.series('top1_acc') == ('epoch', [1.0], [0.5])
    assert log.name == '20230831_122211'
