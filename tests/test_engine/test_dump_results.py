"""tools/test.py --out / --dump files."""
import json
import pickle

import numpy as np
import pytest
import torch

from mmaction.evaluation import DumpResults


def _samples():
    good = dict(pred_score=torch.tensor([0.1, 0.7, 0.2]), pred_label=torch.tensor([1]),
                gt_label=torch.tensor([1]), filename='a.mp4')
    bad = dict(pred_score=torch.tensor([0.5, 0.2, 0.3]), pred_label=torch.tensor([0]),
               gt_label=torch.tensor([2]), filename='b.mp4', decode_failed=True,
               error='moov atom not found')
    views = dict(pred_score=torch.tensor([[0.2, 0.2, 0.6], [0.0, 0.2, 0.8]]),
                 gt_label=torch.tensor([2]), filename='c.mp4')  # average_clips=None
    return [good, bad, views]


def _dump(path, item_format, dataset_meta=None):
    metric = DumpResults(str(path), item_format=item_format)
    metric.dataset_meta = dataset_meta
    metric.process(None, _samples())
    assert metric.compute_metrics(metric.results) == {}


def test_scores_as_mmaction2_0x_wrote_them(tmp_path):
    _dump(tmp_path / 'r.pkl', 'scores')
    with open(tmp_path / 'r.pkl', 'rb') as f:
        scores = pickle.load(f)
    assert isinstance(scores, list) and len(scores) == 3  # one entry per annotation line
    np.testing.assert_allclose(scores[0], [0.1, 0.7, 0.2])
    assert scores[0].dtype == np.float32
    assert np.isnan(scores[1]).all()  # undecodable: no score, position kept
    assert scores[2].shape == (2, 3)
    _dump(tmp_path / 'r.json', 'scores')
    with open(tmp_path / 'r.json') as f:
        loaded = json.load(f)
    assert loaded[0] == pytest.approx([0.1, 0.7, 0.2])


def test_samples_records(tmp_path):
    _dump(tmp_path / 's.json', 'samples')
    with open(tmp_path / 's.json') as f:
        records = json.load(f)
    assert [r['filename'] for r in records] == ['a.mp4', 'b.mp4', 'c.mp4']
    assert records[0]['gt_label'] == 1 and records[0]['pred_label'] == 1
    assert records[1]['decode_failed'] is True and records[1]['error'] == 'moov atom not found'
    assert records[2]['pred_label'] == 2  # argmax of the view average


def test_bad_suffix_is_refused(tmp_path):
    with pytest.raises(ValueError, match='.pkl, .pickle or .json'):
        DumpResults(str(tmp_path / 'r.txt'))


def test_sidecar_records_the_list_and_the_results_file_keeps_its_format(tmp_path):
    data_list = dict(ann_file='val.txt', sha256='cd' * 32, listed=4, found=3)
    _dump(tmp_path / 'r.pkl', 'scores', dict(classes=('a', 'b', 'c'), data_list=data_list))
    with open(tmp_path / 'r.pkl', 'rb') as f:
        assert isinstance(pickle.load(f), list)  # what 0.x's scripts read, unchanged
    with open(tmp_path / 'r.pkl.meta.json') as f:
        meta = json.load(f)
    assert meta == dict(results='r.pkl', item_format='scores',
                        data=dict(data_list, evaluated=3, unreadable=1),
                        unreadable_files=[dict(filename='b.mp4', error='moov atom not found')])
    _dump(tmp_path / 's.json', 'samples')  # a dataset that recorded nothing: said so
    with open(tmp_path / 's.json.meta.json') as f:
        meta = json.load(f)
    assert meta['data'] == dict(ann_file=None, sha256=None, listed=None, found=None,
                                evaluated=3, unreadable=1)
