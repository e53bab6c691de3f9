"""tools/misc/clip_feature_extraction.py writes, per video, what the classifier receives for
each view: checked against the backbone and the pooling run by hand on the test pipeline's
clips; resuming skips the videos written; per-view and averaged layouts; DDP shards."""
import importlib.util
import json
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmaction.apis import build_test_input, inference_recognizer, init_recognizer
from mmaction.apis import features as features_module
from mmaction.engine.launch import run_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'recognition', 'vit', 'vitclip_tiny_synthetic.py')
OPTIONS = {'model.backbone.pretrained': None, 'model.backbone.layers': 2,
           'data.test_dataloader.workers_per_gpu': 0}
VIEWS, WIDTH = 3, 64  # the config's test pipeline: UniformSampleFrames(num_clips=3); width 64


def _tool():
    path = osp.join(ROOT, 'tools', 'misc', 'clip_feature_extraction.py')
    spec = importlib.util.spec_from_file_location('clip_feature_extraction', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from mmaction.synthetic.videos import generate_dataset
    root = tmp_path_factory.mktemp('features')
    paths = generate_dataset(str(root / 'data'), num_train=0, num_val=3, size=64,
                             num_frames=12, seed=3)
    videos = sorted(line.split()[0] for line in open(paths['val']))  # val/val_0000i.mp4
    model = init_recognizer(CONFIG, None, cfg_options=OPTIONS)
    torch.manual_seed(0)
    with torch.no_grad():  # trained-looking weights: adapters and embeddings non-zero
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    checkpoint = str(root / 'model.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    listing = root / 'videos.txt'
    listing.write_text(''.join(f'{v} 0\n' for v in videos))  # an annotation list works too
    return dict(root=root, videos_dir=paths['videos'], videos=videos, model=model,
                checkpoint=checkpoint, list=str(listing))


def _extract(setup, out, *extra):
    argv = [CONFIG, setup['checkpoint'], setup['list'], '--out', str(out), '--video-root',
            setup['videos_dir'], '--device', 'cpu', '--cfg-options',
            *[f'{k}={v}' for k, v in OPTIONS.items()], *extra]
    return run_tool(TOOL.main, argv)


def _by_hand(model, path):
    """Decode with the test pipeline, then normalise, run the backbone and average over
    T, H, W here, without the model's preprocessor, pooling or view handling."""
    clips = build_test_input(model.cfg, path)['inputs'].float()  # (views, 3, T, H, W) uint8
    clips = (clips - 127.5) / 64.0  # the config's img_norm_cfg
    with torch.no_grad():
        return model.backbone(clips).mean(dim=(2, 3, 4)).numpy()  # (views, C)


@pytest.fixture(scope='module')
def per_view(setup):
    out = setup['root'] / 'per_view'
    assert _extract(setup, out) == 0
    return out


def test_features_are_the_backbone_pooled_per_view(setup, per_view):
    model = setup['model']
    for video in setup['videos']:
        feats = np.load(per_view / video.replace('.mp4', '.npy'))
        assert feats.dtype == np.float32 and feats.shape == (VIEWS, WIDTH)
        path = osp.join(setup['videos_dir'], video)
        np.testing.assert_allclose(feats, _by_hand(model, path), rtol=0, atol=1e-5)
        # and they are what the classifier reads: its scores are the model's test scores
        scores = F.softmax(model.cls_head.fc_cls(torch.from_numpy(feats)), dim=1).mean(0)
        _, expected = inference_recognizer(model, path, return_scores=True)
        np.testing.assert_allclose(scores.detach().numpy(), expected, rtol=0, atol=1e-6)
    manifest = json.loads((per_view / 'manifest.json').read_text())
    assert manifest['complete'] and manifest['failed'] == []
    assert [(v['video'], v['file'], v['shape']) for v in manifest['videos']] == [
        (v, v.replace('.mp4', '.npy'), [VIEWS, WIDTH]) for v in setup['videos']]
    assert manifest['settings']['average_views'] is False


def test_averaged_views_and_aims_pickle(setup, per_view):
    out = setup['root'] / 'averaged'
    assert _extract(setup, out, '--average-views') == 0
    pkl = setup['root'] / 'aim' / 'feats.pkl'
    assert _extract(setup, pkl) == 0
    with open(pkl, 'rb') as f:
        aim = pickle.load(f)
    assert len(aim) == len(setup['videos'])
    for video, from_pickle in zip(setup['videos'], aim):
        averaged = np.load(out / video.replace('.mp4', '.npy'))
        assert averaged.shape == (WIDTH, ) and from_pickle.shape == (WIDTH, )
        np.testing.assert_array_equal(from_pickle, averaged)
        views = np.load(per_view / video.replace('.mp4', '.npy'))
        np.testing.assert_allclose(averaged, views.mean(0), rtol=0, atol=1e-6)
    # a resumed run with other settings would mix two kinds of files: refused
    assert _extract(setup, out) == 2


def test_a_resumed_run_skips_the_videos_written(setup, per_view, tmp_path, capsys):
    out = tmp_path / 'resumed'
    first, second, third = (out / v.replace('.mp4', '.npy') for v in setup['videos'])
    assert _extract(setup, out) == 0
    sentinel = np.full((VIEWS, WIDTH), 7.0, np.float32)
    np.save(first, sentinel)  # stands for a file of the interrupted run: must be kept
    third.unlink()  # the video the run did not reach
    capsys.readouterr()
    assert _extract(setup, out) == 0
    assert '3 of 3 videos have features' in capsys.readouterr().out
    np.testing.assert_array_equal(np.load(first), sentinel)
    for path in (second, third):
        np.testing.assert_array_equal(np.load(path), np.load(per_view / path.relative_to(out)))
    assert not [name for name in os.listdir(first.parent) if name.endswith('.tmp')]


def test_ddp_ranks_take_disjoint_shards(setup, tmp_path, monkeypatch):
    entries = features_module.read_video_list(setup['list'], setup['videos_dir'])
    written = {}
    for rank in (0, 1):
        monkeypatch.setattr(features_module, 'get_dist_info', lambda r=rank: (r, 2))
        monkeypatch.setattr(features_module, 'all_gather_object', lambda x: [x, []])
        out = tmp_path / f'rank{rank}'
        summary = features_module.extract_features(setup['model'], entries, str(out),
                                                   progress=False)
        written[rank] = sorted(str(p.relative_to(out)) for p in out.rglob('*.npy'))
        assert summary['written'] == len(written[rank])
    files = [e.file for e in entries]
    assert written == {0: [files[0], files[2]], 1: [files[1]]}


def test_bad_input_is_one_message_and_exit_2(setup, tmp_path, capsys):
    missing = tmp_path / 'missing.txt'
    assert _extract(dict(setup, list=str(missing)), tmp_path / 'o') == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f'error: video list {missing} does not exist (expected a text file with ' \
        'one video path per line)' and len(err) == 2
    listing = tmp_path / 'unknown.txt'
    listing.write_text(f'{setup["videos"][0]}\nval/nope.mp4\n')
    assert _extract(dict(setup, list=str(listing)), tmp_path / 'o') == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith('error: 1 videos of the list do not exist: '
                                               f'{listing}:2: ')
    assert 'val/nope.mp4' in err[0] and '--video-root' in err[0]
    assert not (tmp_path / 'o').exists()  # nothing was started
