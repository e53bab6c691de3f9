"""docs/custom_dataset.md: your own videos in class folders -> ``build_file_list.py custom``
lists (stratified, reproducible, sorted class indices, non-videos skipped and counted) ->
configs/recognition/vit/vitclip_base_custom.py with its four values edited -> one epoch of
tools/train.py, tools/test.py, demo/demo.py with the label map."""
import importlib.util
import json
import os
import os.path as osp
import random
import re
import subprocess
import sys

import numpy as np
from mmengine.config import Config

from tests.helpers import make_clip_tower, write_clip_file
from tests.test_datasets.conftest import encode

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CUSTOM = osp.join(ROOT, 'configs', 'recognition', 'vit', 'vitclip_base_custom.py')
sys.path.insert(0, osp.join(ROOT, 'tools', 'data'))

from custom_file_list import build_custom_lists, stratified_pick  # noqa: E402


def touch(path, text=''):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def lines(path):
    return open(path).read().splitlines()


def class_folders(root, sizes, ext='.mp4'):
    for name, n in sizes.items():
        for i in range(n):
            touch(root / name / f'{name}_{i:02d}{ext}')


# ------------------------------------------------------------------------------- the split
def test_the_split_is_stratified_with_the_documented_counts(tmp_path):
    src = tmp_path / 'src'
    class_folders(src, {'walk': 7, 'jump': 3, 'clap': 1, 'run': 5})
    touch(src / 'walk' / 'notes.txt')
    touch(src / 'jump' / 'Thumbs.db')
    touch(src / 'README.md')  # outside any class folder
    done = build_custom_lists(str(src), str(tmp_path / 'out'), val_ratio=0.5, seed=0)
    # sorted class names: clap 0, jump 1, run 2, walk 3
    assert lines(tmp_path / 'out' / 'label_map.txt') == ['clap', 'jump', 'run', 'walk']
    val = [line.split() for line in lines(tmp_path / 'out' / 'val_list.txt')]
    train = [line.split() for line in lines(tmp_path / 'out' / 'train_list.txt')]
    per_class = {c: sum(1 for _, label in val if label == str(i))
                 for i, c in enumerate(['clap', 'jump', 'run', 'walk'])}
    # floor(0.5 n + 0.5): walk 7 -> 4, jump 3 -> 2, run 5 -> 3; clap's 1 stays in train
    assert per_class == {'clap': 0, 'jump': 2, 'run': 3, 'walk': 4}
    listed = [p for p, _ in train + val]
    assert sorted(listed) == sorted(f'{c}/{c}_{i:02d}.mp4' for c, n in
                                    {'walk': 7, 'jump': 3, 'clap': 1, 'run': 5}.items()
                                    for i in range(n))
    assert all(p.split('/')[0] == ['clap', 'jump', 'run', 'walk'][int(label)]
               for p, label in train + val)
    assert done['skipped'] == {'not videos (by extension)': 2, 'files outside a class folder': 1}
    # ratio 0.2: walk 7 -> 1, jump 3 -> 1, run 5 -> 1, clap 1 -> 0
    build_custom_lists(str(src), str(tmp_path / 'out2'), val_ratio=0.2, seed=0)
    assert sorted(line.split()[1] for line in lines(tmp_path / 'out2' / 'val_list.txt')) == \
        ['1', '2', '3']


def test_the_split_depends_on_the_seed_only_not_on_the_listing_order(tmp_path, monkeypatch):
    samples = [(f'c{c}/v{i}.mp4', f'c{c}') for c in range(3) for i in range(20)]
    picked = stratified_pick(samples, 0.3, seed=5)
    shuffled = samples[:]
    random.Random(1).shuffle(shuffled)
    assert stratified_pick(shuffled, 0.3, seed=5) == picked
    assert stratified_pick(samples, 0.3, seed=6) != picked
    # one class's pick does not move when another class gains a video
    grown = samples + [('c0/extra.mp4', 'c0')]
    assert {p for p in stratified_pick(grown, 0.3, seed=5) if p.startswith('c1/')} == \
        {p for p in picked if p.startswith('c1/')}

    src = tmp_path / 'src'
    class_folders(src, {'a': 6, 'b': 9})
    build_custom_lists(str(src), str(tmp_path / 'one'), seed=3)
    real_listdir, real_walk = os.listdir, os.walk
    monkeypatch.setattr(os, 'listdir', lambda p: real_listdir(p)[::-1])

    def walk(top, *args, **kwargs):
        for root, dirs, files in real_walk(top, *args, **kwargs):
            yield root, dirs[::-1], files[::-1]
    monkeypatch.setattr(os, 'walk', walk)
    build_custom_lists(str(src), str(tmp_path / 'two'), seed=3)
    for name in ('train_list.txt', 'val_list.txt', 'label_map.txt'):
        assert lines(tmp_path / 'one' / name) == lines(tmp_path / 'two' / name)


def test_split_folders_csv_and_rawframes(tmp_path):
    from mmaction.datasets import RawframeDataset, VideoDataset
    # train/ and val/ folders: their split, one class index space
    src = tmp_path / 'split'
    class_folders(src / 'train', {'b': 2, 'a': 1})
    class_folders(src / 'val', {'a': 1, 'b': 1})
    done = build_custom_lists(str(src), str(tmp_path / 'o1'), val_ratio=0.5)
    assert done['split'] == 'folders'
    assert lines(tmp_path / 'o1' / 'train_list.txt') == [
        'train/a/a_00.mp4 0', 'train/b/b_00.mp4 1', 'train/b/b_01.mp4 1']
    assert lines(tmp_path / 'o1' / 'val_list.txt') == ['val/a/a_00.mp4 0', 'val/b/b_00.mp4 1']
    dataset = VideoDataset(str(tmp_path / 'o1' / 'val_list.txt'), [], data_prefix=str(src))
    assert dataset.get_data_info(1) == dict(filename=str(src / 'val/b/b_00.mp4'), label=1,
                                            sample_idx=1)
    # a CSV of path,label; labels are class names, numeric ones sorted as numbers
    vids = tmp_path / 'flat'
    for name in ('x.mp4', 'y.mp4', 'z.avi', 'w.mp4', 'doc.pdf'):
        touch(vids / name)
    touch(tmp_path / 'rows.csv', 'path,label\nx.mp4,10\ny.mp4,9\nz.avi,10\nw.mp4,9\n'
          'doc.pdf,9\ngone.mp4,10\n')
    done = build_custom_lists(str(vids), str(tmp_path / 'o2'), val_ratio=0.5, seed=0,
                              csv_file=str(tmp_path / 'rows.csv'))
    assert lines(tmp_path / 'o2' / 'label_map.txt') == ['9', '10']
    assert done['skipped'] == {'not videos (by extension)': 1, 'not found': 1}
    both = lines(tmp_path / 'o2' / 'train_list.txt') + lines(tmp_path / 'o2' / 'val_list.txt')
    assert sorted(both) == ['w.mp4 0', 'x.mp4 1', 'y.mp4 0', 'z.avi 1']
    # rawframes: a sample is a folder of frames, listed with its frame count
    frames = tmp_path / 'frames'
    for cls, vid, count in (('a', 'v1', 3), ('a', 'v2', 5), ('b', 'v3', 2), ('b', 'empty', 0)):
        os.makedirs(frames / cls / vid)
        for i in range(count):
            touch(frames / cls / vid / f'img_{i + 1:05d}.jpg')
    done = build_custom_lists(str(frames), str(tmp_path / 'o3'), fmt='rawframes', val_ratio=0)
    assert lines(tmp_path / 'o3' / 'train_list.txt') == ['a/v1 3 0', 'a/v2 5 0', 'b/v3 2 1']
    assert done['skipped'] == {'frame folders without img_* files': 1}
    dataset = RawframeDataset(str(tmp_path / 'o3' / 'train_list.txt'), [],
                              data_prefix=str(frames))
    assert dataset.get_data_info(1)['total_frames'] == 5


# ------------------------------------------------------------------------------ end to end
def _tool(path, name):
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edited_custom_config(path, values):
    """configs/recognition/vit/vitclip_base_custom.py with only its four values changed (and
    its _base_ made absolute, as the copy does not sit next to it)."""
    text = open(CUSTOM).read()
    for key, value in values.items():
        text, n = re.subn(rf'^{key} = .*$', f'{key} = {value!r}', text, flags=re.M)
        assert n == 1, key
    text = text.replace("'./vitclip_base_k400_8x16x1.py'",
                        repr(osp.join(osp.dirname(CUSTOM), 'vitclip_base_k400_8x16x1.py')))
    path.write_text(text)
    return str(path)


def test_the_four_values_are_the_only_edits(tmp_path):
    shipped = Config.fromfile(CUSTOM)
    values = dict(data_root='/d/v', ann_file_train='/d/l/train_list.txt',
                  ann_file_val='/d/l/val_list.txt', num_classes=3)
    edited = Config.fromfile(edited_custom_config(tmp_path / 'mine.py', values))
    from tests.test_configs.test_aim_recipes import flatten
    a, b = flatten(shipped.to_dict()), flatten(edited.to_dict())
    changed = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    assert changed == {'data_root', 'ann_file_train', 'ann_file_val', 'num_classes',
                       'model.cls_head.num_classes', 'data.train.ann_file',
                       'data.train.data_prefix', 'data.val.ann_file', 'data.val.data_prefix',
                       'data.test.ann_file', 'data.test.data_prefix'}
    assert b['model.cls_head.num_classes'] == 3 and b['data.test.ann_file'] == values[
        'ann_file_val']


CLASSES = ['jump', 'clap', 'wave']  # sorted: clap 0, jump 1, wave 2


def test_from_class_folders_to_a_trained_model_and_the_demo(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    src = tmp_path / 'my_videos'
    rng = np.random.default_rng(0)
    for c, name in enumerate(CLASSES):
        for i in range(5):  # 5 per class: 4 train, 1 val
            frames = np.roll(rng.integers(0, 256, (1, 48, 64, 3), dtype=np.uint8),
                             shift=3 * (c - 1), axis=2).repeat(12, axis=0)
            os.makedirs(src / name, exist_ok=True)
            encode(src / name / f'{name}_{i}.mp4', num_frames=12, frames=frames, width=64,
                   height=48)
    touch(src / 'wave' / 'notes.txt')
    lists = tmp_path / 'lists'
    out = subprocess.run([sys.executable, 'tools/data/build_file_list.py', 'custom', str(src),
                          '--format', 'videos', '--out-dir', str(lists), '--val-ratio', '0.2',
                          '--seed', '0'], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=ROOT), timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        '3 classes; split: drawn (val ratio 0.2, seed 0)',
        f'{lists}/train_list.txt: 12 samples', f'{lists}/val_list.txt: 3 samples',
        f'{lists}/label_map.txt: 3 class names',
        "skipped 1 not videos (by extension); first: ['wave/notes.txt']"]
    assert lines(lists / 'label_map.txt') == ['clap', 'jump', 'wave']

    config = edited_custom_config(tmp_path / 'vitclip_base_mine.py', dict(
        data_root=str(src), ann_file_train=str(lists / 'train_list.txt'),
        ann_file_val=str(lists / 'val_list.txt'), num_classes=3))
    clip = write_clip_file(tmp_path / 'tiny_clip.pt', make_clip_tower(seed=0), jit=True)
    tiny = [f'model.backbone.{k}={v}' for k, v in dict(
        width=64, layers=2, heads=4, patch_size=8, input_resolution=32, pretrained=clip).items()]
    tiny += ['model.cls_head.in_channels=64', 'data.videos_per_gpu=4', 'data.workers_per_gpu=0',
             'data.val_dataloader.workers_per_gpu=0', 'data.test_dataloader.workers_per_gpu=0']
    # frames of the tiny model's size (the recipe's steps, smaller): 40 px short side, 32 crops
    tiny += ['data.train.pipeline.3.scale=(-1,40)', 'data.train.pipeline.5.scale=(32,32)']
    tiny += [f'data.{split}.pipeline.{step}' for split in ('val', 'test')
             for step in ('3.scale=(-1,40)', '4.crop_size=32')]
    work = tmp_path / 'work'
    train = _tool('tools/train.py', 'tool_train')
    assert train.main([config, '--validate', '--test-last', '--work-dir', str(work), '--seed',
                       '0', '--cfg-options', *tiny, 'total_epochs=1',
                       'evaluation.interval=1']) in (None, 0)
    assert osp.isfile(work / 'epoch_1.pth')
    results = tmp_path / 'results.json'
    test = _tool('tools/test.py', 'tool_test')
    test.main([config, str(work / 'epoch_1.pth'), '--eval', 'top_k_accuracy', '--out',
               str(results), '--work-dir', str(tmp_path / 'test'), '--cfg-options', *tiny])
    scores = json.load(open(results))
    assert len(scores) == 3  # the three validation videos, 3 classes each
    assert all(len(s) == 3 for s in (r if isinstance(r, list) else r['pred_score']
                                     for r in scores))

    capsys.readouterr()
    video = str(src / lines(lists / 'val_list.txt')[0].split()[0])
    demo = _tool('demo/demo.py', 'demo')
    top = demo.main([video, config, str(work / 'epoch_1.pth'), str(lists / 'label_map.txt'),
                     '--topk', '3', '--cfg-options', *tiny])
    printed = capsys.readouterr().out
    assert sorted(name for _, name, _ in top) == ['clap', 'jump', 'wave']
    assert all(['clap', 'jump', 'wave'][index] == name for index, name, _ in top)
    assert f'Top-3 for {video}:' in printed
