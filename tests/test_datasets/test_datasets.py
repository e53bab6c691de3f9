"""Datasets: annotation parsing with file:line errors, and training/testing through bad
videos (substitution counted across data-loader workers, the ceiling, decode_failed)."""
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmengine.model import BaseModel

from mmaction.datasets import AnnotationError, RawframeDataset, VideoDataset
from mmaction.models.data_preprocessor import ActionDataPreprocessor
from .conftest import NUM_FRAMES, frame_index

PIPELINE = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label']),
]
BAD = ('missing', 'empty', 'truncated')


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


@pytest.fixture
def video_dir(videos, tmp_path):
    """9 good copies of the test videos and the 3 bad files, listed with labels 0..11."""
    root = tmp_path / 'videos'
    root.mkdir()
    names = []
    for i in range(9):
        kind = ('h264', 'vp9', 'vp8')[i % 3]
        name = f'good{i}{osp.splitext(videos[kind])[1]}'
        shutil.copy(videos[kind], root / name)
        names.append(name)
    for kind in BAD:
        name = f'{kind}.mp4'
        if kind != 'missing':
            shutil.copy(videos[kind], root / name)
        names.append(name)
    ann = write(tmp_path / 'list.txt', ''.join(f'{n} {i}\n' for i, n in enumerate(names)))
    return str(root), ann, names


# ------------------------------------------------------------------------- parsing
def test_video_list_parsing(tmp_path):
    ann = write(tmp_path / 'a.txt', 'a/x.mp4 3\n\nb y.mp4 0\n')
    dataset = VideoDataset(ann, [], data_prefix='/data')
    assert len(dataset) == 2
    assert dataset.get_data_info(0)['filename'] == '/data/a/x.mp4'
    assert dataset.get_data_info(0)['label'] == 3
    assert dataset.get_data_info(1)['filename'] == '/data/b y.mp4'  # a path with a space
    multi = VideoDataset(write(tmp_path / 'm.txt', 'x.mp4 1 4\n'), [], multi_class=True,
                         num_classes=5)
    assert multi.get_data_info(0)['label'] == [1, 4]
    js = VideoDataset(write(tmp_path / 'a.json', '[{"filename": "x.mp4", "label": 2}]'), [],
                      data_prefix='d')
    assert js.get_data_info(0)['filename'] == 'd/x.mp4' and js.get_data_info(0)['label'] == 2


def test_malformed_lines_are_reported_with_file_and_line(tmp_path):
    ann = write(tmp_path / 'bad.txt', 'ok.mp4 1\nnolabel.mp4\nx.mp4 one\ny.mp4 400\nz.mp4 2 3\n')
    with pytest.raises(AnnotationError) as info:
        VideoDataset(ann, [], num_classes=400)
    text = str(info.value)
    assert '4 malformed entries' in text
    assert f'{ann}:2' in text and 'LABEL' in text
    assert f'{ann}:3' in text and "'one' is not an integer" in text
    assert f'{ann}:4' in text and 'num_classes=400' in text
    assert f'{ann}:5' in text and 'multi_class' in text
    assert f'{ann}:1' not in text


def test_label_file_names_the_classes(tmp_path):
    names = write(tmp_path / 'names.txt', 'abseiling\nair drumming\n')
    dataset = VideoDataset(write(tmp_path / 'a.txt', 'x.mp4 1\n'), [], label_file=names)
    assert dataset.metainfo['classes'] == ('abseiling', 'air drumming')
    with pytest.raises(AnnotationError, match=r'a2.txt:1.*num_classes=2'):
        VideoDataset(write(tmp_path / 'a2.txt', 'x.mp4 2\n'), [], label_file=names)


def test_rawframe_list_parsing(tmp_path, frame_folder):
    ann = write(tmp_path / 'r.txt', f'{osp.basename(frame_folder)} {NUM_FRAMES} 5\n')
    pipeline = [dict(type='SampleFrames', clip_len=3, frame_interval=1, test_mode=True),
                dict(type='RawFrameDecode'), dict(type='FormatShape', input_format='NCTHW'),
                dict(type='PackActionInputs')]
    dataset = RawframeDataset(ann, pipeline, data_prefix=osp.dirname(frame_folder),
                              filename_tmpl='img_{:05}.png')
    sample = dataset[0]
    # test mode: share 38, start int(19) = 19, frames counted from 1 -> files 20..22 = 19..21
    assert sample['data_samples'].frame_inds.tolist() == [20, 21, 22]
    frames = sample['inputs'][0].permute(1, 2, 3, 0).numpy()
    assert [frame_index(f) for f in frames] == [19, 20, 21]
    offset = RawframeDataset(write(tmp_path / 'o.txt', 'clip 2 30 5\n'), [], with_offset=True)
    assert offset.get_data_info(0)['offset'] == 2 and offset.get_data_info(0)['total_frames'] == 30
    with pytest.raises(AnnotationError, match='o2.txt:1'):
        RawframeDataset(write(tmp_path / 'o2.txt', 'clip 2 30 5\n'), [])


# ------------------------------------------------------------------------- training
class ToyRecognizer(BaseModel):
    """Mean colour -> linear classifier: enough to drive the runner over real batches."""

    def __init__(self):
        super().__init__(data_preprocessor=ActionDataPreprocessor())
        self.fc = torch.nn.Linear(3, 12)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        logits = self.fc(inputs.mean(dim=(1, 3, 4, 5)))
        if mode == 'loss':
            labels = torch.cat([s.gt_label for s in data_samples])
            return dict(loss=F.cross_entropy(logits, labels))
        return logits


def make_runner(tmp_path, video_dir, max_bad_fraction, num_workers=2, by_epoch=True,
                pipeline=PIPELINE):
    from mmengine.runner import Runner
    root, ann, _ = video_dir
    loop = dict(by_epoch=True, max_epochs=2) if by_epoch else dict(by_epoch=False, max_iters=10)
    return Runner(
        model=ToyRecognizer(),
        work_dir=str(tmp_path / 'work'),
        train_dataloader=dict(
            dataset=dict(type='VideoDataset', ann_file=ann, data_prefix=root,
                         pipeline=pipeline, max_bad_fraction=max_bad_fraction),
            sampler=dict(type='DefaultSampler' if by_epoch else 'InfiniteSampler',
                         shuffle=True),
            batch_size=3, num_workers=num_workers, collate_fn=dict(type='pseudo_collate')),
        train_cfg=loop,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        custom_hooks=[dict(type='BadVideoHook')],
        default_hooks=dict(checkpoint=None),
        default_scope='mmaction',
        experiment_name=tmp_path.name,  # runners made within a second share no logger
        randomness=dict(seed=0),
        log_level='WARNING')


def test_training_goes_through_bad_videos_and_counts_them(tmp_path, video_dir):
    runner = make_runner(tmp_path, video_dir, max_bad_fraction=0.3)  # 12 * 0.3 -> 3 allowed
    hook = next(h for h in runner.hooks if type(h).__name__ == 'BadVideoHook')
    runner.train()
    root, _, names = video_dir
    bad_paths = {osp.join(root, f'{kind}.mp4') for kind in BAD}
    # each epoch visited each of the 3 bad entries once; the records came out of 2 worker
    # processes with the batches; only the bad files ever failed
    assert [h['substituted'] for h in hook.history] == [3, 3]
    assert all(set(h['files']) == bad_paths for h in hook.history)
    log = open(runner.logger.log_file).read()
    # one warning per bad file: the workers of epoch 2 were told about epoch 1's files
    for path in bad_paths:
        assert log.count(f'Unreadable video {path}') == 1
    # 12 samples in batches of 3: an epoch is 4 iterations
    assert 'Epoch 1 (up to iteration 4): 3 training samples stood in' in log
    assert 'Epoch 2 (up to iteration 8): 3 training samples stood in' in log
    assert 'missing.mp4: file not found' in log


DECORD_PIPELINE = [dict(PIPELINE[0], type='DecordInit'), PIPELINE[1],
                   dict(PIPELINE[2], type='DecordDecode')] + PIPELINE[3:]


def test_files_decord_cannot_decode_train_decoded_by_pyav_and_are_counted_apart(
        tmp_path, videos):
    """A valid video decord fails on is not substituted (it would be with PyAV unavailable),
    is warned about once, and the epoch summary counts it apart from unreadable files."""
    pytest.importorskip('decord')
    root = tmp_path / 'videos'
    root.mkdir()
    names = []
    for i in range(5):
        shutil.copy(videos['h264'], root / f'good{i}.mp4')
        names.append(f'good{i}.mp4')
    shutil.copy(videos['small'], root / 'small.mp4')
    shutil.copy(videos['empty'], root / 'empty.mp4')
    names += ['small.mp4', 'empty.mp4']
    ann = write(tmp_path / 'list.txt', ''.join(f'{n} {i}\n' for i, n in enumerate(names)))
    runner = make_runner(tmp_path, (str(root), ann, names), max_bad_fraction=0.5,
                         pipeline=DECORD_PIPELINE)
    hook = next(h for h in runner.hooks if type(h).__name__ == 'BadVideoHook')
    runner.train()
    assert [(h['substituted'], h['fallbacks']) for h in hook.history] == [(1, 1), (1, 1)]
    assert all(h['files'] == [str(root / 'empty.mp4')] for h in hook.history)
    log = open(runner.logger.log_file).read()
    assert log.count(f'decord cannot decode {root / "small.mp4"} (decord cannot decode '
                     'frames') == 1
    assert 'Epoch 1 (up to iteration 3): 1 training samples were decoded with PyAV' in log
    assert f'Unreadable video {root / "small.mp4"}' not in log


def test_in_test_mode_a_file_decord_cannot_decode_is_decoded_not_dropped(videos, tmp_path):
    pytest.importorskip('decord')
    ann = write(tmp_path / 't.txt', f"{videos['small']} 1\n{videos['h264']} 0\n")
    dataset = VideoDataset(ann, DECORD_PIPELINE, test_mode=True)
    sample = dataset[0]['data_samples']
    assert 'decode_failed' not in sample
    assert sample.decoder_fallback['filename'] == videos['small']
    assert 'decoder_fallback' not in dataset[1]['data_samples']


def test_iteration_based_training_counts_per_epoch_worth(tmp_path, video_dir):
    # 10 iterations of 3 samples over 12: two full passes (3 substitutions each, at the
    # ceiling of 3) and a partial one; counted as one total, 6+ would have stopped the run
    runner = make_runner(tmp_path, video_dir, max_bad_fraction=0.3, num_workers=0,
                         by_epoch=False)
    runner.train()
    log = open(runner.logger.log_file).read()
    assert '(up to iteration 4): 3 training samples stood in' in log
    assert '(up to iteration 8): 3 training samples stood in' in log


def test_ceiling_stops_the_run_and_names_the_files(tmp_path, video_dir):
    runner = make_runner(tmp_path, video_dir, max_bad_fraction=0.1)  # floor(1.2) = 1 allowed
    with pytest.raises(RuntimeError, match='max_bad_fraction=0.1') as info:
        runner.train()
    assert 'check_videos.py' in str(info.value)
    assert any(f'{kind}.mp4' in str(info.value) for kind in BAD)



def test_bad_video_counts_carry_over_a_resume_part_way_into_an_epoch():
    from types import SimpleNamespace

    from mmaction.engine.hooks import BadVideoHook
    loader = SimpleNamespace(dataset=SimpleNamespace(max_bad_fraction=0.5),
                             sampler=list(range(12)))
    runner = SimpleNamespace(train_dataloader=loader, train_loop=SimpleNamespace(resume_at=0))
    hook = BadVideoHook()
    hook.before_train_epoch(runner)
    hook.seen, hook.substituted = 4, 1
    hook.bad_files = [dict(filename='a.mp4', error='empty file')]
    checkpoint = dict(meta={})
    hook.before_save_checkpoint(runner, checkpoint)  # iter_N.pth, 4 samples into the epoch

    resumed, fresh = BadVideoHook(), BadVideoHook()
    for new, batches_done in ((resumed, 2), (fresh, 0)):
        new.after_load_checkpoint(runner, checkpoint)
        runner.train_loop.resume_at = batches_done
        new.before_train_epoch(runner)
    assert (resumed.seen, resumed.substituted, resumed.bad_files) == (4, 1, hook.bad_files)
    assert (fresh.seen, fresh.substituted, fresh.bad_files) == (0, 0, [])  # a new epoch


def test_substitute_records_what_it_replaces(video_dir):
    root, ann, names = video_dir
    dataset = VideoDataset(ann, PIPELINE, data_prefix=root)
    np.random.seed(0)
    sample = dataset[names.index('empty.mp4')]
    records = sample['data_samples'].substitutions
    assert records[0]['filename'] == osp.join(root, 'empty.mp4')
    assert 'empty' in records[0]['error']
    assert sample['inputs'].shape == (1, 3, 4, 32, 32)
    assert 'substitutions' not in dataset[0]['data_samples']


def test_warnings_name_each_bad_file_once_then_go_quiet(videos, tmp_path):
    """The datasets record what failed; BadVideoHook, in the main process, warns once per file
    for the whole run (data-loader workers persist across epochs and would each warn again)."""
    from types import SimpleNamespace

    from mmaction.engine.hooks import BadVideoHook
    from tests.test_engine.engine_helpers import LogCapture
    lines = ''.join(f'missing{i}.mp4 0\n' for i in range(24)) + f"{videos['vp9']} 1\n"
    dataset = VideoDataset(write(tmp_path / 'a.txt', lines), PIPELINE)
    logger = MMLogger.get_instance('bad_video_warnings')
    logged = LogCapture()
    logger.addHandler(logged)
    loader = SimpleNamespace(dataset=dataset, sampler=list(range(48)))
    runner = SimpleNamespace(train_dataloader=loader, train_loop=SimpleNamespace(resume_at=0),
                             logger=logger, epoch=0, iter=0)
    hook = BadVideoHook(max_bad_fraction=1.0)
    np.random.seed(0)
    for epoch in range(2):
        hook.before_train_epoch(runner)
        for i in range(24):
            sample = dataset[i]['data_samples']
            assert sample.gt_label.tolist() == [1]
            hook.after_train_iter(runner, i, data_batch=dict(data_samples=[sample]))
    named = [m for m in logged.messages if m.startswith('Unreadable video')]
    assert len(named) == len(set(named)) == hook.max_warnings == 20
    assert sum('not logged one by one' in m for m in logged.messages) == 1


def test_dataset_pickles_for_spawned_workers(video_dir):
    import pickle
    root, ann, _ = video_dir
    dataset = VideoDataset(ann, PIPELINE, data_prefix=root, test_mode=True)
    before = dataset[0]['inputs']  # after use too: no per-process decoder state is pickled
    clone = pickle.loads(pickle.dumps(dataset))
    assert torch.equal(clone[0]['inputs'], before)


# ------------------------------------------------------------------------- testing
def test_test_mode_marks_failures_and_keeps_shapes(video_dir):
    root, ann, names = video_dir
    dataset = VideoDataset(ann, PIPELINE, data_prefix=root, test_mode=True)
    good = dataset[0]
    failed = dataset[names.index('truncated.mp4')]
    sample = failed['data_samples']
    assert sample.decode_failed is True
    assert sample.filename == osp.join(root, 'truncated.mp4')
    assert sample.error and sample.gt_label.tolist() == [names.index('truncated.mp4')]
    assert failed['inputs'].shape == good['inputs'].shape
    again = dataset[names.index('truncated.mp4')]
    assert torch.equal(again['inputs'], failed['inputs'])  # deterministic
    assert 'decode_failed' not in good['data_samples']
    # test mode samples are deterministic (the sampler follows the dataset's test_mode)
    assert torch.equal(dataset[1]['inputs'], dataset[1]['inputs'])


# ------------------------------------------------------------------------- AIM's configs
CONFIGS = ['vitclip_base_k400', 'vitclip_base_sthv2', 'vitclip_base_diving48']
# views x frames of each split, from the pipelines: AIM tests K400 on 3 clips x 1 centre crop,
# SSv2 and Diving-48 on 1 clip x 3 crops
EXPECTED = {
    'vitclip_base_k400': dict(train=(1, 32), val=(1, 32), test=(3, 32)),
    'vitclip_base_sthv2': dict(train=(1, 8), val=(1, 8), test=(3, 8)),
    'vitclip_base_diving48': dict(train=(1, 32), val=(1, 32), test=(3, 32)),
}


@pytest.mark.parametrize('name', CONFIGS)
def test_aim_config_pipelines_run_unchanged(name, videos, tmp_path):
    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(repo, 'configs', 'recognition', 'vit', f'{name}.py'))
    ann = write(tmp_path / 'list.txt', f"{osp.basename(videos['h264'])} 1\n")
    for split, (views, frames) in EXPECTED[name].items():
        data = dict(cfg.data[split])
        data.update(ann_file=ann, data_prefix=osp.dirname(videos['h264']))
        dataset = VideoDataset(**{k: v for k, v in data.items() if k != 'type'})
        np.random.seed(0)
        sample = dataset[0]
        assert sample['inputs'].dtype == torch.uint8
        assert tuple(sample['inputs'].shape) == (views, 3, frames, 224, 224), (name, split)
        assert 'substitutions' not in sample['data_samples']
        assert sample['data_samples'].gt_label.tolist() == [1]
