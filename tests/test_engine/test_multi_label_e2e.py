"""Multi-label recognition end to end, as a user runs it: generated two-lane videos whose
labels are the (lane, direction) pairs they show, an AIM-dialect config with
``multi_class=True``, ``BCELossWithLogits`` and ``evaluation.metrics`` of 0.x's mAP names,
trained by ``tools/train.py --validate`` and scored by ``tools/test.py --eval
mean_average_precision mmit_mean_average_precision`` (in this process, to stay quick). The
scores it writes are checked against mAP computed here by an independent formulation."""
import json
import os.path as osp
import pickle

import numpy as np
import pytest

from mmaction.engine import commands
from mmaction.engine.config import ConfigError
from mmaction.evaluation import read_test_results
from mmaction.synthetic.videos import generate_dataset

# label index = 2 * lane + (1 if the lane's object moves left): 0 top right, 1 top left,
# 2 bottom right, 3 bottom left
CLASSES = ('top right', 'top left', 'bottom right', 'bottom left')

CONFIG = '''
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ViT_CLIP', input_resolution=32, patch_size=8, num_frames=4, width=64,
                  layers=2, heads=4, pretrained=None),
    cls_head=dict(type='I3DHead', in_channels=64, num_classes=4, dropout_ratio=0.0,
                  multi_class=True, label_smooth_eps=0.1,
                  loss_cls=dict(type='BCELossWithLogits', class_weight=[1.0, 1.0, 2.0, 2.0])),
    test_cfg=dict(average_clips='prob'))
img_norm_cfg = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)
pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])
]
data = dict(
    videos_per_gpu=4, workers_per_gpu=0,
    train=dict(type='VideoDataset', ann_file='{root}/train_multi.txt',
               data_prefix='{root}/videos', multi_class=True, num_classes=4,
               pipeline=pipeline),
    val=dict(type='VideoDataset', ann_file='{root}/val_multi.txt',
             data_prefix='{root}/videos', multi_class=True, num_classes=4, pipeline=pipeline),
    test=dict(type='VideoDataset', ann_file='{root}/val_multi.txt',
              data_prefix='{root}/videos', multi_class=True, num_classes=4,
              pipeline=pipeline))
optimizer = dict(type='AdamW', lr=1e-3, weight_decay=0.0)
optimizer_config = dict(grad_clip=None)
lr_config = dict(policy='fixed')
total_epochs = 2
checkpoint_config = dict(interval=2)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
evaluation = dict(interval=1, metrics=['mean_average_precision', 'mmit_mean_average_precision'])
'''


def lane_labels(clip: dict) -> list:
    """The (lane, direction) labels of a clip, from the motion the generator drew."""
    return [2 * lane + int(obj['velocity'][0] < 0) for lane, obj in enumerate(clip['objects'])]


def ap_by_definition(scores: np.ndarray, truth: np.ndarray) -> float:
    """AP as the mean over the positives p of the precision among the entries scored at
    least as high as p (ties share a threshold)."""
    positives = np.flatnonzero(truth == 1)
    return float(np.mean([truth[scores >= scores[p]].mean() for p in positives]))


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """24 training and 8 validation clips (32 x 32, 8 frames), two lanes each."""
    root = tmp_path_factory.mktemp('multi_label')
    generate_dataset(str(root), num_train=24, num_val=8, size=32, num_frames=8, num_lanes=2)
    clips = json.loads((root / 'meta.json').read_text())['clips']
    truth = {}
    for split in ('train', 'val'):
        lines = []
        for line in (root / f'{split}.txt').read_text().split('\n'):
            if line:
                path = line.split()[0]
                truth[path] = lane_labels(clips[path])
                lines.append(' '.join([path] + [str(k) for k in truth[path]]))
        (root / f'{split}_multi.txt').write_text('\n'.join(lines) + '\n')
    config = root / 'multi_label.py'
    config.write_text(CONFIG.format(root=root))
    return dict(root=root, config=str(config), truth=truth)


def test_multi_label_set_trains_and_is_scored(data):
    root = data['root']
    work = root / 'work'
    runner = commands.train(commands.parse_train_args(
        [data['config'], '--work-dir', str(work), '--seed', '0', '--validate']))
    # each video's packed label is the multi-hot row of the lanes' directions
    dataset = runner.train_dataloader.dataset
    sample = dataset[0]['data_samples']
    expected = np.zeros(4, np.float32)
    path = osp.relpath(dataset.get_data_info(0)['filename'], root / 'videos')
    expected[data['truth'][path]] = 1
    assert sample.gt_label.dtype.is_floating_point
    assert np.array_equal(sample.gt_label.numpy(), expected)
    assert expected.sum() == 2  # one label per lane

    log = open(runner.logger.log_file).read()
    train_lines = [x for x in log.splitlines() if 'Epoch(train)' in x]
    assert len(train_lines) == 12  # 2 epochs x 24 / 4
    assert all('loss_cls' in x and 'precision_at_1' in x for x in train_lines)
    assert 'top1_acc' not in log
    val_lines = [x for x in log.splitlines() if 'Epoch(val)' in x and 'mean_average_precision'
                 in x]
    assert len(val_lines) == 2 and all('mmit_mean_average_precision' in x for x in val_lines)
    # save_best follows the first metric, as 0.x's 'auto' did
    assert any(osp.basename(p).startswith('best_mean_average_precision_epoch_')
               for p in map(str, work.iterdir()))

    out, dump = str(root / 'scores.pkl'), str(root / 'samples.pkl')
    metrics = commands.test(commands.parse_test_args(
        [data['config'], str(work / 'epoch_2.pth'), '--eval', 'mean_average_precision',
         'mmit_mean_average_precision', '--out', out, '--dump', dump,
         '--work-dir', str(root / 'test')]))
    with open(out, 'rb') as f:
        scores = np.stack(pickle.load(f))
    paths = [line.split()[0] for line in (root / 'val_multi.txt').read_text().split('\n') if line]
    labels = np.zeros((len(paths), 4))
    for i, path in enumerate(paths):
        labels[i, data['truth'][path]] = 1
    assert scores.shape == (8, 4) and ((scores > 0) & (scores < 1)).all()  # sigmoids
    per_class = np.mean([ap_by_definition(scores[:, k], labels[:, k]) for k in range(4)
                         if labels[:, k].any()])
    per_video = np.mean([ap_by_definition(s, y) for s, y in zip(scores, labels)])
    assert metrics['mean_average_precision'] == pytest.approx(per_class)
    assert metrics['mmit_mean_average_precision'] == pytest.approx(per_video)

    # --dump records list each video's labels; a confusion matrix of them is refused
    with open(dump, 'rb') as f:
        records = pickle.load(f)
    assert [r['gt_label'] for r in records] == [data['truth'][p] for p in paths]
    with pytest.raises(ValueError, match='multi-label video.*needs one label per video'):
        read_test_results(dump)


def test_top_k_of_multi_label_data_is_refused_before_any_work(data):
    with pytest.raises(ConfigError, match=r"cannot be scored with \['top_k_accuracy'\].*"
                       '--eval mean_average_precision'):
        commands.test(commands.parse_test_args(
            [data['config'], 'none.pth', '--eval', 'top_k_accuracy', '--check-only']))
    with pytest.raises(ConfigError, match='model.cls_head.multi_class is not set'):
        commands.train(commands.parse_train_args(
            [data['config'], '--check-only', '--cfg-options', 'model.cls_head.multi_class=False']))
