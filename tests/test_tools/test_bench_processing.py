"""tools/analysis/bench_processing.py's prepared-data rows on tiny videos: the figures that do
not depend on the machine (bytes, PSNR, frame indices) and the loud failure when a data form
samples other frames. Its clips/s are not checked (they depend on the machine)."""
import importlib.util
import os.path as osp

import numpy as np
import pytest

from tests.test_datasets.conftest import encode

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture
def bench(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        'bench_processing', osp.join(REPO, 'tools', 'analysis', 'bench_processing.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    src = tmp_path / 'downloaded'
    src.mkdir()
    files = [encode(src / f'clip{i}.mp4', num_frames=70, gop=250,
                    frames=[np.roll(np.random.default_rng(i).integers(
                        0, 256, (48, 64, 3), np.uint8), t, axis=1) for t in range(70)])
             for i in range(2)]
    monkeypatch.setattr(module, 'prepare_videos', lambda *_: files)
    return module


def test_prepared_rows_report_bytes_psnr_and_identical_indices(bench, tmp_path):
    doc = tmp_path / 'benchmarks.md'
    doc.write_text('# Benchmarks\n')  # --update-doc takes an existing file
    bench.main(['--video-dir', str(tmp_path), '--passes', '1', '--repeats', '2',
                '--backends', '--forms', 'keyint16', 'rawframes', '--prepared-pipelines',
                'k400_train', '--update-doc', str(doc)])
    text = doc.read_text()
    assert '## Data pipeline on prepared data' in text and '## Data pipeline\n' not in text
    rows = {line.split(' | ')[1]: line.strip('| ').split(' | ')
            for line in text.splitlines() if line.startswith('| k400_train |')}
    assert sorted(rows) == ['downloaded', 'keyint16', 'rawframes']
    files = sorted((tmp_path / 'downloaded').iterdir())
    mean_bytes = np.mean([f.stat().st_size for f in files])
    assert rows['downloaded'][8] == f'{mean_bytes / 1e6:.2f} MB'
    keyint16 = sorted((tmp_path / 'prepared' / 'keyint16').iterdir())
    assert rows['keyint16'][8] == f'{np.mean([f.stat().st_size for f in keyint16]) / 1e6:.2f} MB'
    assert [r[10] for r in rows.values()] == ['yes'] * 3
    assert rows['downloaded'][9] == '-'
    # PSNR, computed here frame by frame from the files
    import av
    import cv2

    def frames(path):
        with av.open(str(path)) as c:
            return np.stack([f.to_ndarray(format='rgb24') for f in c.decode(video=0)])
    ref = [frames(f) for f in files]
    jpgs = [np.stack([cv2.imread(str(tmp_path / 'prepared' / 'rawframes' / f.stem /
                                     f'img_{i:05d}.jpg'))[..., ::-1] for i in range(1, 71)])
            for f in files]
    for name, got in (('keyint16', [frames(f) for f in keyint16]), ('rawframes', jpgs)):
        mse = np.mean([((a.astype(float) - b) ** 2).mean() for a, b in zip(ref, got)])
        assert rows[name][9] == f'{10 * np.log10(255 ** 2 / mse):.1f}'


def test_a_form_sampling_other_frames_stops_the_run(bench, tmp_path, monkeypatch):
    real = bench.prepare_form

    def frames_short(video_dir, files, form):
        samples, size = real(video_dir, files, form)
        if form == 'rawframes':  # a list that counts fewer frames than the video has
            samples = [dict(s, total_frames=s['total_frames'] - 10) for s in samples]
        return samples, size

    monkeypatch.setattr(bench, 'prepare_form', frames_short)
    monkeypatch.setattr(bench, 'psnr', lambda *_: 40.0)
    doc = tmp_path / 'benchmarks.md'
    doc.write_text('# Benchmarks\n')
    with pytest.raises(SystemExit, match='k400_train on rawframes'):
        bench.main(['--video-dir', str(tmp_path), '--passes', '1', '--repeats', '1',
                    '--backends', '--forms', 'rawframes', '--prepared-pipelines',
                    'k400_train', '--update-doc', str(doc)])
    assert doc.read_text() == '# Benchmarks\n'  # left as it was
