"""The data tools on small fixtures: check_videos.py and the annotation list builders."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, *args], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def write(path, text):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


# ------------------------------------------------------------------------- check_videos
def test_check_videos_finds_exactly_the_bad_files(videos, tmp_path):
    root = tmp_path / 'v'
    root.mkdir()
    lines = []
    for i, kind in enumerate(['h264', 'missing', 'vp9', 'empty', 'garbage', 'vp8',
                              'audio_only', 'truncated', 'h264_one_gop']):
        name = f'{kind}{osp.splitext(videos[kind])[1]}'
        if kind != 'missing':
            shutil.copy(videos[kind], root / name)
        lines.append(f'{name} {i}\n')
    ann = write(tmp_path / 'list.txt', ''.join(lines))
    proc = run_tool('tools/analysis/check_videos.py', ann, '--data-prefix', str(root),
                    '--nproc', '2', '--decoder', 'pyav')
    bad = dict(line.rstrip('\n').split('\t') for line in open(f'{ann}.bad.txt'))
    expected_bad = {'missing', 'empty', 'garbage', 'audio_only', 'truncated'}
    assert set(bad) == {str(root / f'{k}.mp4') for k in expected_bad}
    assert bad[str(root / 'missing.mp4')] == 'file not found'
    assert 'no video stream' in bad[str(root / 'audio_only.mp4')]
    clean = open(tmp_path / 'list_clean.txt').read()
    assert clean == ''.join(line for line in lines if line.split('.')[0] not in expected_bad)
    assert '9 checked, 5 unreadable' in proc.stdout


def test_check_videos_lists_apart_the_files_only_pyav_decodes(videos, tmp_path):
    pytest.importorskip('decord')
    lines = [f"{videos['h264']} 0\n", f"{videos['small']} 1\n", f"{videos['garbage']} 2\n"]
    ann = write(tmp_path / 'list.txt', ''.join(lines))
    proc = run_tool('tools/analysis/check_videos.py', ann, '--decoder', 'decord', '--nproc', '1')
    bad = open(f'{ann}.bad.txt').read()
    assert bad.startswith(f"{videos['garbage']}\tdecord cannot open it")
    fallback = [line.split('\t') for line in open(f'{ann}.fallback.txt').read().splitlines()]
    assert [path for path, _ in fallback] == [videos['small']]
    assert fallback[0][1].startswith('decord cannot decode frames')
    assert open(tmp_path / 'list_clean.txt').read() == ''.join(lines[:2])  # it is readable
    assert '3 checked, 1 unreadable' in proc.stdout
    assert '1 of the kept ones decord cannot decode, PyAV can' in proc.stdout


def test_check_videos_full_decode_and_frame_folders(videos, frame_folder, tmp_path):
    # --full decodes every frame of a long-GOP video (in chunks)
    ann = write(tmp_path / 'one.txt', f"{videos['h264_one_gop']} 0\n")
    run_tool('tools/analysis/check_videos.py', ann, '--full', '--nproc', '1')
    assert open(f'{ann}.bad.txt').read() == ''
    # frame folders: one complete, one missing a frame
    root = tmp_path / 'frames'
    shutil.copytree(frame_folder, root / 'full')
    shutil.copytree(frame_folder, root / 'holed')
    os.remove(root / 'holed' / 'img_00007.png')
    ann = write(tmp_path / 'frames.txt', 'full 40 1\nholed 40 2\n')
    run_tool('tools/analysis/check_videos.py', ann, '--data-prefix', str(root), '--type',
             'rawframes', '--filename-tmpl', 'img_{:05}.png', '--nproc', '1')
    bad = open(f'{ann}.bad.txt').read()
    assert bad == f"{root / 'holed'}\t1 of 40 frame files missing (first: frame 7)\n"
    assert open(tmp_path / 'frames_clean.txt').read() == 'full 40 1\n'


# ------------------------------------------------------------------------- file lists
def test_kinetics_lists(tmp_path):
    ann = tmp_path / 'annotations'
    write(ann / 'kinetics_train.csv',
          'label,youtube_id,time_start,time_end,split,is_cc\n'
          'zumba,aaa,10,20,train,0\n'
          '"air drumming",bbb,0,10,train,0\n'
          'abseiling,ccc,5.0,15.0,train,0\n'
          'zumba,ddd,1,11,train,0\n')
    write(ann / 'kinetics_val.csv',
          'label,youtube_id,time_start,time_end,split,is_cc\n'
          'abseiling,eee,0,10,val,0\n')
    # classes sorted with spaces as underscores: abseiling 0, air_drumming 1, zumba 2
    src = tmp_path / 'train'
    for rel in ['zumba/aaa_000010_000020.mp4', 'air_drumming/bbb_000000_000010.mp4',
                'abseiling/ccc_000005_000015.mp4']:  # ddd was never downloaded
        write(src / rel, '')
    proc = run_tool('tools/data/build_file_list.py', 'kinetics400', str(src), '--level', '2',
                    '--ann-dir', str(ann), '--out-root-path', str(tmp_path / 'out'))
    out = open(tmp_path / 'out' / 'kinetics400' / 'kinetics400_train_list_videos.txt').read()
    assert out == ('zumba/aaa_000010_000020.mp4 2\nair_drumming/bbb_000000_000010.mp4 1\n'
                   'abseiling/ccc_000005_000015.mp4 0\n')
    assert '1 annotated samples are not on disk' in proc.stderr and 'ddd' in proc.stderr


def test_sthv2_lists_from_the_labels_package(tmp_path):
    ann = tmp_path / 'annotations' / 'labels'  # the package's own names, not renamed
    write(ann / 'labels.json', json.dumps({'Holding something': '0',
                                           'Pushing something from left to right': '1'}))
    write(ann / 'train.json', json.dumps([
        {'id': '7', 'label': 'pushing a cup from left to right',
         'template': 'Pushing [something] from left to right', 'placeholders': ['a cup']},
        {'id': '12', 'label': 'holding a pen', 'template': 'Holding [something]'}]))
    write(ann / 'validation.json', json.dumps([
        {'id': '3', 'label': 'holding x', 'template': 'Holding [something]'}]))
    videos = tmp_path / 'videos'
    for vid in ('7', '12', '3'):
        write(videos / f'{vid}.webm', '')
    for subset, expected in [('train', '7.webm 1\n12.webm 0\n'), ('val', '3.webm 0\n')]:
        run_tool('tools/data/build_file_list.py', 'sthv2', str(videos), '--subset', subset,
                 '--ann-dir', str(tmp_path / 'annotations'), '--out-root-path',
                 str(tmp_path / 'out'))
        assert open(tmp_path / 'out' / 'sthv2' / f'sthv2_{subset}_list_videos.txt').read() == \
            expected
    # renamed as in mmaction2's guide: something-something-v2-*.json
    renamed = tmp_path / 'renamed'
    for part, new in [('labels', 'labels'), ('train', 'train'), ('validation', 'validation')]:
        write(renamed / f'something-something-v2-{new}.json', open(ann / f'{part}.json').read())
    frames = tmp_path / 'rawframes'
    for vid, count in (('7', 3), ('12', 5)):
        for i in range(count):
            write(frames / vid / f'img_{i + 1:05}.jpg', '')
    run_tool('tools/data/build_file_list.py', 'sthv2', str(frames), '--format', 'rawframes',
             '--ann-dir', str(renamed), '--out-root-path', str(tmp_path / 'out'))
    assert open(tmp_path / 'out' / 'sthv2' / 'sthv2_train_list_rawframes.txt').read() == \
        '7 3 1\n12 5 0\n'


def test_diving48_lists(tmp_path):
    ann = tmp_path / 'annotations'
    write(ann / 'Diving48_V2_train.json', json.dumps([
        {'vid_name': '-mmq0PT-u8k_00155', 'label': 0, 'start_frame': 0, 'end_frame': 74},
        {'vid_name': 'abc_00001', 'label': 47, 'start_frame': 0, 'end_frame': 10}]))
    write(ann / 'Diving48_V2_test.json', json.dumps([{'vid_name': 'zz_00002', 'label': 5}]))
    videos = tmp_path / 'videos'
    for vid in ('-mmq0PT-u8k_00155', 'abc_00001', 'zz_00002'):
        write(videos / f'{vid}.mp4', '')
    for subset, expected in [('train', '-mmq0PT-u8k_00155.mp4 0\nabc_00001.mp4 47\n'),
                             ('val', 'zz_00002.mp4 5\n')]:
        run_tool('tools/data/build_file_list.py', 'diving48', str(videos), '--subset', subset,
                 '--ann-dir', str(ann), '--out-root-path', str(tmp_path / 'out'))
        assert open(tmp_path / 'out' / 'diving48' /
                    f'diving48_{subset}_list_videos.txt').read() == expected


def test_generated_list_loads_in_the_dataset(tmp_path):
    from mmaction.datasets import VideoDataset
    ann = tmp_path / 'annotations'
    write(ann / 'Diving48_V2_train.json', json.dumps([{'vid_name': 'a b', 'label': 3}]))
    write(ann / 'Diving48_V2_test.json', '[]')
    write(tmp_path / 'videos' / 'a b.mp4', '')
    run_tool('tools/data/build_file_list.py', 'diving48', str(tmp_path / 'videos'), '--ann-dir',
             str(ann), '--out-root-path', str(tmp_path / 'out'))
    dataset = VideoDataset(str(tmp_path / 'out' / 'diving48' / 'diving48_train_list_videos.txt'),
                           [], data_prefix='videos')
    assert dataset.get_data_info(0)['filename'] == 'videos/a b.mp4'
    assert dataset.get_data_info(0)['label'] == 3


def test_sthv2_generator_script_writes_the_config_lists(tmp_path):
    """The script run from a checkout root writes the lists the SSv2 configs read."""
    os.symlink(osp.join(REPO, 'tools'), tmp_path / 'tools')
    ann = tmp_path / 'data' / 'sthv2' / 'annotations'
    write(ann / 'something-something-v2-labels.json', json.dumps({'Holding something': '0',
                                                                  'Moving something': '1'}))
    write(ann / 'something-something-v2-train.json', json.dumps(
        [{'id': str(i), 'template': ['Holding [something]', 'Moving [something]'][i % 2]}
         for i in range(6)]))
    write(ann / 'something-something-v2-validation.json', json.dumps(
        [{'id': '9', 'template': 'Moving [something]'}]))
    for i in list(range(6)) + [9]:
        write(tmp_path / 'data' / 'sthv2' / 'videos' / f'{i}.webm', '')
    proc = subprocess.run(['bash', 'tools/data/sthv2/generate_videos_filelist.sh'],
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=REPO),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    train = open(tmp_path / 'data' / 'sthv2' / 'sthv2_train_list_videos.txt').read()
    assert sorted(train.splitlines()) == sorted(f'{i}.webm {i % 2}' for i in range(6))
    assert open(tmp_path / 'data' / 'sthv2' / 'sthv2_val_list_videos.txt').read() == \
        '9.webm 1\n'


def test_bench_processing_rewrites_only_its_own_section(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'bench_processing', osp.join(REPO, 'tools', 'analysis', 'bench_processing.py'))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    doc = write(tmp_path / 'benchmarks.md',
                '# Benchmarks\n\n## Training\n\nkeep me\n\n## Data pipeline\n\nold numbers\n\n'
                '## Inference\n\nkeep me too\n')
    bench.update_doc(doc, '## Data pipeline\n\nnew numbers\n')
    assert open(doc).read() == ('# Benchmarks\n\n## Training\n\nkeep me\n\n## Data pipeline\n\n'
                                'new numbers\n\n## Inference\n\nkeep me too\n')
    fresh = str(tmp_path / 'new.md')
    bench.update_doc(fresh, '## Data pipeline\n\nx\n')
    assert open(fresh).read() == '# Benchmarks\n\n## Data pipeline\n\nx\n'


def test_atomic_write_replaces_whole_files_and_leaves_no_temporaries(tmp_path, monkeypatch):
    from mmaction.utils import write_text_atomic
    path = str(tmp_path / 'sub' / 'list.txt')
    write_text_atomic(path, 'old\n')
    write_text_atomic(path, 'new\n')
    assert open(path).read() == 'new\n' and os.listdir(tmp_path / 'sub') == ['list.txt']

    def crash(src, dst):
        raise OSError('disk full')
    monkeypatch.setattr(os, 'replace', crash)
    try:
        write_text_atomic(path, 'half')
    except OSError:
        pass
    assert open(path).read() == 'new\n' and os.listdir(tmp_path / 'sub') == ['list.txt']
