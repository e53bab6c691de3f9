"""docs/data.md's table, run: on a small fake copy of each dataset (official annotation files
in their formats, empty video files) every command of the table writes the lists, and the
train, val and test datasets of every shipped config build from them with nothing missing
and the labels the official files give. The table itself must match the configs, and a
missing list's error must name the table's command."""
import csv
import glob
import json
import os
import os.path as osp
import re
import subprocess

import pytest
from mmengine.config import Config

from mmaction.datasets.base import annotation_list_command, missing_annotation_message

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(osp.relpath(p, ROOT)
                 for p in glob.glob(osp.join(ROOT, 'configs/recognition/**/*.py'), recursive=True))
SPLITS = ('train', 'val', 'test')
QUICKSTART = 'python tools/quickstart.py'


def doc_table():
    """{config file name: (train ann_file, val ann_file, train prefix, val prefix, command)}
    from docs/data.md."""
    text = open(osp.join(ROOT, 'docs', 'data.md')).read()
    table = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) != 4 or not cells[0].startswith('`'):
            continue
        names = re.findall(r'`([^`]+\.py)`', cells[0])
        anns, prefixes = (re.findall(r'`([^`]+)`', c) for c in cells[1:3])
        command = cells[3].strip('`')
        for name in names:
            table[name] = (*anns, *prefixes, command)
    return table


def write(path, text=''):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


# --------------------------------------------------------------- the fake official datasets
KINETICS_CLASSES = ['zumba', 'air drumming', 'abseiling']  # sorted: abseiling, air_drumming, zumba


def kinetics(root, dataset, names, folders, per_class=10):
    """csv files under ``names`` (e.g. {'train': 'train.csv', 'val': 'validate.csv'}) and an
    empty video per row in each folder of ``folders`` ({'train_256': (subset, level)}).
    Returns {subset: {id: label}}."""
    index = {c.replace(' ', '_'): i
             for i, c in enumerate(sorted(c.replace(' ', '_') for c in KINETICS_CLASSES))}
    truth = {}
    for subset, name in names.items():
        count = per_class if subset == 'train' else 2
        rows = [(cls, f'{subset[:2]}{cls[:3]}{i}', 10 * i, 10 * i + 10)
                for cls in KINETICS_CLASSES for i in range(count)]
        os.makedirs(root / dataset / 'annotations', exist_ok=True)
        with open(root / dataset / 'annotations' / name, 'w', newline='') as f:
            out = csv.writer(f)
            out.writerow(['label', 'youtube_id', 'time_start', 'time_end', 'split'])
            for cls, yid, start, end in rows:
                out.writerow([cls, yid, start, end, subset])
        truth[subset] = {f'{cls.replace(" ", "_")}/{yid}_{start:06d}_{end:06d}':
                         index[cls.replace(' ', '_')] for cls, yid, start, end in rows}
    for folder, (subset, level) in folders.items():
        for vid in truth[subset]:
            write(root / dataset / folder / f'{vid if level == 2 else osp.basename(vid)}.mp4')
    return truth


def sthv2(root):
    ann = root / 'sthv2' / 'annotations' / 'labels'  # the package's own names
    write(ann / 'labels.json', json.dumps({'Holding something': '0',
                                           'Pushing something from left to right': '1'}))
    templates = ['Holding [something]', 'Pushing [something] from left to right']
    truth = {}
    for subset, name, ids in (('train', 'train.json', range(6)),
                              ('val', 'validation.json', range(100, 103))):
        write(ann / name, json.dumps([{'id': str(i), 'label': 'x', 'template': templates[i % 2],
                                       'placeholders': ['x']} for i in ids]))
        truth[subset] = {str(i): i % 2 for i in ids}
        for i in ids:
            write(root / 'sthv2' / 'videos' / f'{i}.webm')
    return truth


def diving48(root):
    truth = {'train': {'-mmq0PT-u8k_00155': 0, 'abc_00001': 47, 'abc_00002': 3},
             'val': {'zz_00002': 5, 'zz_00003': 47}}
    for subset, name in (('train', 'Diving48_V2_train.json'), ('val', 'Diving48_V2_test.json')):
        write(root / 'diving48' / 'annotations' / name, json.dumps(
            [{'vid_name': v, 'label': lab, 'start_frame': 0, 'end_frame': 60}
             for v, lab in truth[subset].items()]))
        for vid in truth[subset]:
            write(root / 'diving48' / 'videos' / f'{vid}.mp4')
    return truth


def ucf101(root):
    ann = root / 'ucf101' / 'annotations' / 'ucfTrainTestlist'
    write(ann / 'classInd.txt', '1 ApplyEyeMakeup\n2 Archery\n3 YoYo\n')
    train = {'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01': 0, 'Archery/v_Archery_g09_c02': 1,
             'YoYo/v_YoYo_g10_c01': 2, 'YoYo/v_YoYo_g11_c03': 2}
    val = {'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01': 0, 'YoYo/v_YoYo_g02_c01': 2}
    write(ann / 'trainlist01.txt', ''.join(f'{v}.avi {lab + 1}\r\n' for v, lab in train.items()))
    write(ann / 'testlist01.txt', ''.join(f'{v}.avi\r\n' for v in val))
    for vid in list(train) + list(val):
        write(root / 'ucf101' / 'videos' / f'{vid}.avi')
    return {'train': train, 'val': val}


def hmdb51(root):
    ann = root / 'hmdb51' / 'annotations' / 'testTrainMulti_7030_splits'
    marks = {'wave': {'wave_a.avi': 1, 'wave_b.avi': 2, 'wave_c.avi': 0},
             'brush_hair': {'brush_a.avi': 2, 'brush_b.avi': 1, 'brush_c.avi': 1}}
    truth = {'train': {}, 'val': {}}
    for label, cls in enumerate(sorted(marks)):  # brush_hair 0, wave 1
        write(ann / f'{cls}_test_split1.txt',
              ''.join(f'{v} {m} \n' for v, m in marks[cls].items()))
        write(ann / f'{cls}_test_split2.txt', ''.join(f'{v} 1 \n' for v in marks[cls]))
        for video, mark in marks[cls].items():
            write(root / 'hmdb51' / 'videos' / cls / video)
            if mark:
                truth['train' if mark == 1 else 'val'][f'{cls}/{video[:-4]}'] = label
    return truth


def custom(root):
    truth = {}
    for cls in ('cat', 'dog'):
        for i in range(5):
            write(root / 'my_dataset' / 'videos' / cls / f'{cls}{i}.mp4')
    write(root / 'my_dataset' / 'videos' / 'dog' / 'notes.txt')  # not a video: skipped
    return truth


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
    """A checkout-like folder (tools/ linked) with every dataset's fake official files,
    after the table's commands ran in it."""
    from mmaction.synthetic.videos import generate_dataset
    work = tmp_path_factory.mktemp('checkout')
    os.symlink(osp.join(ROOT, 'tools'), work / 'tools')
    data = work / 'data'
    truth = {
        'kinetics400': kinetics(data, 'kinetics400', {'train': 'train.csv', 'val': 'val.csv'},
                                {'train_256': ('train', 2), 'val_256': ('val', 2),
                                 'train': ('train', 1), 'val': ('val', 1)}),  # CVDF: flat
        'kinetics600': kinetics(data, 'kinetics600', {'train': 'kinetics_train.csv',
                                                      'val': 'kinetics_val.csv'},
                                {'train': ('train', 2), 'val': ('val', 2)}),
        'kinetics700': kinetics(data, 'kinetics700', {'train': 'train.csv',
                                                      'val': 'validate.csv'},
                                {'train_256': ('train', 2), 'val_256': ('val', 2)}),
        'sthv2': sthv2(data), 'diving48': diving48(data), 'ucf101': ucf101(data),
        'hmdb51': hmdb51(data), 'my_dataset': custom(data)}
    commands = sorted({row[-1] for row in doc_table().values()} - {QUICKSTART})
    # independent datasets: the commands run side by side
    procs = {command: subprocess.Popen(command, shell=True, cwd=work, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       env=dict(os.environ, PYTHONPATH=ROOT))
             for command in commands}
    # the quickstart's data only (the quickstart also trains)
    generate_dataset(str(data / 'synthetic'), num_train=2, num_val=2, size=32, num_frames=4)
    logs = {}
    for command, proc in procs.items():
        logs[command] = proc.communicate(timeout=600)[0]
        assert proc.returncode == 0, f'{command}:\n{logs[command]}'
    return dict(work=work, truth=truth, logs=logs)


def test_the_table_matches_the_shipped_configs():
    table = doc_table()
    names = sorted(osp.basename(c) for c in CONFIGS)
    assert sorted(table) == names, 'docs/data.md lists other configs than configs/recognition/'
    for path in CONFIGS:
        data = Config.fromfile(osp.join(ROOT, path)).data
        train_ann, val_ann, train_prefix, val_prefix, command = table[osp.basename(path)]
        assert (data.train.ann_file, data.train.data_prefix) == (train_ann, train_prefix), path
        for split in ('val', 'test'):
            assert (data[split].ann_file, data[split].data_prefix) == (val_ann, val_prefix), path
        # the missing-list error names the table's command, for every split
        for split in SPLITS:
            assert annotation_list_command(data[split].ann_file,
                                           data[split].data_prefix)[0] == command, path


def _expected(truth, config):
    """{path relative to data_prefix: label} the config's train and val lists must hold."""
    name = osp.basename(config)
    if 'synthetic' in name:
        return None
    for key in ('kinetics400', 'kinetics600', 'kinetics700', 'sthv2', 'diving48', 'ucf101',
                'hmdb51', 'my_dataset'):
        if key in Config.fromfile(osp.join(ROOT, config)).data.train.ann_file:
            return key
    raise AssertionError(f'{config}: no fake dataset for it')


@pytest.mark.parametrize('config', CONFIGS)
def test_every_shipped_config_builds_its_datasets_from_what_the_commands_wrote(
        config, prepared, monkeypatch):
    from mmaction.registry import DATASETS
    from mmaction.utils import register_all_modules
    register_all_modules()
    monkeypatch.chdir(prepared['work'])
    data = Config.fromfile(osp.join(ROOT, config)).data
    key = _expected(prepared['truth'], config)
    for split in SPLITS:
        # serialize_data=False: mmengine's serialisation only adds a gc.collect() here
        dataset = DATASETS.build(dict(data[split], serialize_data=False))
        records = [dataset.get_data_info(i) for i in range(len(dataset))]
        missing = [r['filename'] for r in records if not osp.isfile(r['filename'])]
        assert not missing, f'{config} data.{split}: listed but not on disk: {missing}'
        listed = {osp.splitext(osp.relpath(r['filename'], data[split].data_prefix))[0]:
                  r['label'] for r in records}
        if key is None:  # synthetic: the generator's own lists
            assert len(listed) == 2
            continue
        if key == 'my_dataset':
            # custom: a stratified 0.2 split of 5 + 5 videos: 1 + 1 in val, notes.txt skipped
            assert set(listed.values()) == {0, 1}
            assert len(listed) == (8 if split == 'train' else 2)
            continue
        want = prepared['truth'][key]['train' if split == 'train' else 'val']
        if key.startswith('kinetics') and not data[split].data_prefix.endswith('_256'):
            if key == 'kinetics400':  # the CVDF layout: flat folders
                want = {osp.basename(v): lab for v, lab in want.items()}
        if 'train_video_list_10' in data[split].ann_file:
            # a class-stratified 10 % of 10 videos per class: one of each class
            assert sorted(listed.values()) == [0, 1, 2]
            assert set(listed.items()) <= set(want.items())
            continue
        assert listed == want, f'{config} data.{split}'


def test_the_commands_report_what_they_did(prepared):
    log = prepared['logs']['bash tools/data/kinetics/generate_videos_filelist.sh kinetics400']
    assert 'data/kinetics400/train_video_list.txt: 30 of 30 annotated train samples, found ' \
        'under data/kinetics400/train_256 (level 2)' in log
    assert 'data/kinetics400/kinetics400_val_list.txt: 6 of 6 annotated val samples, found ' \
        'under data/kinetics400/val (level 1)' in log
    assert 'train_video_list_10.txt: 3 (a 0.1 share of each class) of 30' in log
    custom_log = [v for k, v in prepared['logs'].items() if 'custom' in k][0]
    assert 'skipped 1 not videos (by extension)' in custom_log


def test_a_missing_list_names_both_keys_and_the_command(tmp_path, monkeypatch):
    from mmaction.engine.config.checks import check_input_files
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(osp.join(ROOT, 'configs/recognition/vit/vitclip_base_ucf101.py'))
    cfg = Config(dict(train_dataloader=dict(dataset=cfg.data.train.to_dict())))
    with pytest.raises(FileNotFoundError) as err:
        check_input_files(cfg, legacy=True)
    assert str(err.value) == (
        'data.train.ann_file: the annotation list data/ucf101/ucf101_train_split_1_videos.txt '
        'does not exist. Its paths are relative to data.train.data_prefix=data/ucf101/videos. '
        'Write it with `bash tools/data/ucf101/generate_videos_filelist.sh 1` '
        '(tools/data/ucf101/README.md), or point to your own list and the folder its paths '
        'are relative to with --cfg-options data.train.ann_file=LIST '
        'data.train.data_prefix=FOLDER.')
    # the dataset itself, built without a config key, says the same of its own arguments
    assert missing_annotation_message('data/sthv2/sthv2_val_list_videos.txt',
                                      data_prefix='data/sthv2/videos').startswith(
        'ann_file: the annotation list data/sthv2/sthv2_val_list_videos.txt does not exist. '
        'Its paths are relative to data_prefix=data/sthv2/videos. Write it with '
        '`bash tools/data/sthv2/generate_videos_filelist.sh`')
