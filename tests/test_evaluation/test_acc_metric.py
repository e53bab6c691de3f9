"""AccMetric against accuracies worked out by hand."""
import pytest
import torch
from mmengine.logging import MMLogger

from mmaction.evaluation import AccMetric
from mmaction.structures import ActionDataSample


def sample(scores, label, **meta):
    s = ActionDataSample(metainfo=meta)
    s.set_gt_label(label)
    s.set_pred_score(torch.tensor(scores, dtype=torch.float32))
    return s


SCORES = [
    # label 0: ranked 1st -> top1 and top2 hit
    ([0.6, 0.1, 0.2, 0.1], 0),
    # label 1: ranked 2nd (0.5 > 0.3 > 0.1 > 0.05) -> top2 hit only
    ([0.5, 0.3, 0.1, 0.05], 1),
    # label 1: ranked 4th -> miss
    ([0.2, 0.0, 0.7, 0.1], 1),
    # label 3: ranked 1st
    ([0.1, 0.2, 0.3, 0.4], 3),
]


def evaluate(metric, samples):
    metric.process({}, [s.to_dict() for s in samples])  # the evaluator hands over dicts
    return metric.evaluate(len(samples))


def test_hand_computed_accuracies():
    metric = AccMetric(topk=(1, 2))
    out = evaluate(metric, [sample(s, y) for s, y in SCORES])
    assert out['top1_acc'] == pytest.approx(2 / 4)
    assert out['top2_acc'] == pytest.approx(3 / 4)
    # classes 0: 1/1, 1: 0/2, 3: 1/1 -> mean over the 3 classes present = 2/3
    assert out['mean_class_accuracy'] == pytest.approx(2 / 3)
    assert set(out) == {'top1_acc', 'top2_acc', 'mean_class_accuracy'}


def test_default_keys_and_metric_options():
    out = evaluate(AccMetric(), [sample(s, y) for s, y in SCORES])
    assert set(out) == {'top1_acc', 'top5_acc', 'mean_class_accuracy'}
    assert out['top5_acc'] == 1.0  # 4 classes: everything is in the top 5
    options = AccMetric(metric_list=['top_k_accuracy'],
                        metric_options=dict(top_k_accuracy=dict(topk=(3, ))))
    assert evaluate(options, [sample(s, y) for s, y in SCORES]) == {'top3_acc': 0.75}


def test_per_view_scores_are_averaged():
    # view scores average to [0.3, 0.5, 0.2]: class 1 wins although view 0 prefers class 0
    views = [[0.55, 0.45, 0.0], [0.05, 0.55, 0.4]]
    out = evaluate(AccMetric(topk=(1, )), [sample(views, 1)])
    assert out['top1_acc'] == 1.0


def test_decode_failures_are_left_out_and_reported():
    logger = MMLogger.get_instance('acc_metric_test', log_level='INFO')
    messages = []
    logger.warning = messages.append  # the metric reports through the current logger
    samples = [sample(s, y) for s, y in SCORES]
    # a failed video whose borrowed inputs scored "right" must not count
    samples.append(sample([0.0, 0.0, 0.0, 1.0], 3, decode_failed=True, filename='bad.mp4',
                          error='file not found'))
    samples.append(sample([1.0, 0.0, 0.0, 0.0], 2, decode_failed=True, filename='bad2.mp4',
                          error='no video stream'))
    out = evaluate(AccMetric(topk=(1, 2)), samples)
    assert out['top1_acc'] == pytest.approx(2 / 4)
    assert out['mean_class_accuracy'] == pytest.approx(2 / 3)  # class 2 only failed
    assert len(messages) == 1
    assert 'over 4 of 6 videos' in messages[0]
    assert 'bad.mp4: file not found' in messages[0] and 'bad2.mp4' in messages[0]


def test_all_failed_is_an_error():
    bad = sample([1.0, 0.0], 0, decode_failed=True, filename='x.mp4', error='empty')
    with pytest.raises(RuntimeError, match='none of the 1'):
        evaluate(AccMetric(), [bad])


def test_unknown_metric_is_refused():
    # the message lists what it computes, the multi-label mAP names among them
    with pytest.raises(ValueError, match=r"mean_average_precision.*got \['mean_ap'\]"):
        AccMetric(metric_list=['mean_ap'])


def test_videos_decoded_by_pyav_instead_of_decord_count_and_are_listed_apart():
    logger = MMLogger.get_instance('acc_metric_fallback', log_level='INFO')
    warnings, infos = [], []
    logger.warning, logger.info = warnings.append, infos.append
    samples = [sample(s, y) for s, y in SCORES]
    error = 'decord cannot decode frames [0] (DECORDError: size must exactly match)'
    samples[0] = sample(*SCORES[0], filename='small.mp4',
                        decoder_fallback=dict(filename='small.mp4', error=error))
    out = evaluate(AccMetric(topk=(1, 2)), samples)
    assert infos == ['Accuracy over 4 of 4 videos']
    assert out == evaluate(AccMetric(topk=(1, 2)), [sample(s, y) for s, y in SCORES])
    assert warnings == [f'1 of the 4 videos were decoded with PyAV because decord could not '
                        f'decode them (same pixels; they count):\n  small.mp4: {error}']


def test_results_and_log_name_the_list_the_dataset_recorded():
    logger = MMLogger.get_instance('acc_metric_provenance', log_level='INFO')
    messages = []
    logger.info = logger.warning = messages.append
    metric = AccMetric(topk=(1, ))
    metric.dataset_meta = dict(data_list=dict(ann_file='val.txt', sha256='ab' * 32, listed=9,
                                              found=8))
    samples = [sample(s, y) for s, y in SCORES]
    samples.append(sample([1.0, 0.0, 0.0, 0.0], 2, decode_failed=True, filename='x.mp4',
                          error='file not found'))
    out = evaluate(metric, samples)
    assert out['data'] == dict(ann_file='val.txt', sha256='ab' * 32, listed=9, found=8,
                               evaluated=5, unreadable=1)
    assert messages[0].startswith('Accuracy over 4 of 5 videos of val.txt '
                                  f"(sha256 {'ab' * 32}; 9 listed, 8 found)")
    assert 'data' not in evaluate(AccMetric(topk=(1, )), samples)  # nothing recorded
