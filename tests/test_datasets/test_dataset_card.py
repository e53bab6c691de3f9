"""tools/data/dataset_card.py on videos of known resolution, frame rate, length and codec,
with missing and truncated ones among them."""
import hashlib
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from .conftest import encode

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def card_tool():
    spec = importlib.util.spec_from_file_location(
        'dataset_card', osp.join(REPO, 'tools', 'data', 'dataset_card.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its worker function pickles by module name (--nproc)
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_card_counts_histograms_and_lists_every_bad_file(card_tool, videos, tmp_path):
    root = tmp_path / 'v'
    root.mkdir()
    # 64x48 at 25 fps, 40 frames: 1.6 s (h264 mp4, vp9 webm); 96x64 at 10 fps, 25 frames: 2.5 s
    shutil.copy(videos['h264'], root / 'a.mp4')
    shutil.copy(videos['vp9'], root / 'c.webm')
    encode(root / 'b.mp4', fps=10, num_frames=25, width=96, height=64, options={'crf': '8'})
    shutil.copy(videos['truncated'], root / 't.mp4')
    text = 'a.mp4 0\nb.mp4 1\nc.webm 1\nmissing.mp4 2\nt.mp4 0\ngone.mp4 2\n'
    (tmp_path / 'list.txt').write_text(text)
    (tmp_path / 'classes.txt').write_text('run\njump\nswim\n')
    out = tmp_path / 'cards' / 'val.json'
    assert card_tool.main([str(tmp_path / 'list.txt'), '--data-prefix', str(root), '--out',
                           str(out), '--nproc', '2', '--md-limit', '1', '--label-map',
                           str(tmp_path / 'classes.txt')]) == 0
    card = json.loads(out.read_text())
    assert card['list'] == dict(path=str(tmp_path / 'list.txt'), format='videos',
                                sha256=hashlib.sha256(text.encode()).hexdigest(),
                                data_prefix=str(root))
    assert card['videos'] == dict(listed=6, found=4, readable=3)
    assert card['classes'] == {'0': dict(name='run', listed=2, readable=1),
                               '1': dict(name='jump', listed=2, readable=2),
                               '2': dict(name='swim', listed=2, readable=0)}
    assert card['histograms'] == dict(resolution={'64x48': 2, '96x64': 1},
                                      fps={'10': 1, '25': 2},
                                      duration_s={'[1, 2)': 2, '[2, 3)': 1},
                                      codec={'h264': 2, 'vp9': 1})
    assert card['missing'] == [str(root / 'missing.mp4'), str(root / 'gone.mp4')]
    assert [u['path'] for u in card['unreadable']] == [str(root / 't.mp4')]
    md = (tmp_path / 'cards' / 'val.md').read_text()
    assert card['list']['sha256'] in md
    assert '| 6 | 4 | 3 | 2 | 1 |' in md  # listed, found, readable, missing, unreadable
    assert f"`{root / 'missing.mp4'}`" in md and 'gone.mp4' not in md  # capped at 1 ...
    assert '... and 1 more' in md  # ... and says so
    assert f"`{root / 't.mp4'}`: " in md


def test_card_of_frame_folders(card_tool, frame_folder, tmp_path):
    (tmp_path / 'list.txt').write_text(f'{frame_folder} 40 0\n{tmp_path}/nowhere 40 1\n')
    assert card_tool.main([str(tmp_path / 'list.txt'), '--format', 'rawframes',
                           '--filename-tmpl', 'img_{:05}.png', '--nproc', '1']) == 0
    card = json.loads((tmp_path / 'list_card.json').read_text())
    assert card['videos'] == dict(listed=2, found=1, readable=1)
    assert card['histograms'] == dict(resolution={'64x48': 1}, frames={'[40, 50)': 1})
    assert card['missing'] == [f'{tmp_path}/nowhere']


def test_a_malformed_list_is_one_message_naming_file_and_line(tmp_path):
    (tmp_path / 'list.txt').write_text('a.mp4 0\nb.mp4 x\n')
    tool = osp.join('tools', 'data', 'dataset_card.py')
    proc = subprocess.run([sys.executable, tool, str(tmp_path / 'list.txt')], cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=REPO), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert f"error: 1 malformed entries in {tmp_path / 'list.txt'}" in proc.stderr
    assert f"{tmp_path / 'list.txt'}:2: label 'x' is not an integer" in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not (tmp_path / 'list_card.json').exists()
