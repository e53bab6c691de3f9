"""The synthetic benchmark: deterministic, decodable by every backend, and only motion
tells its classes apart."""
import copy
import json
import os.path as osp

import av
import numpy as np
import pytest

from mmaction.datasets.transforms import (
    DecordDecode,
    DecordInit,
    OpenCVDecode,
    OpenCVInit,
    PyAVDecode,
    PyAVInit,
)
from mmaction.synthetic.videos import (
    class_names,
    generate_dataset,
    lane_directions,
    render_clip,
    sample_clip_spec,
)

ARGS = dict(num_train=6, num_val=4, size=64, num_frames=16, seed=3)


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    return root, generate_dataset(root, workers=1, **ARGS)


def read(path):
    with open(path) as f:
        return f.read()


def test_layout_and_balanced_labels(dataset):
    root, paths = dataset
    train = [line.split() for line in read(paths['train']).splitlines()]
    val = [line.split() for line in read(paths['val']).splitlines()]
    assert len(train) == 6 and len(val) == 4
    assert all(osp.isfile(osp.join(paths['videos'], rel)) for rel, _ in train + val)
    assert sorted(int(label) for _, label in train) == [0, 0, 0, 1, 1, 1]
    assert read(paths['label_map']).splitlines() == ['right', 'left']
    meta = json.loads(read(osp.join(root, 'meta.json')))
    for rel, label in train + val:  # the label is the direction the object travels
        (obj, ) = meta['clips'][rel]['objects']
        assert np.sign(obj['velocity'][0]) == (1 if label == '0' else -1)
        assert obj['velocity'][1] == 0


def test_same_seed_same_videos_whatever_the_workers(dataset, tmp_path, monkeypatch):
    root, paths = dataset
    # the worker processes start with freshly allocated memory filled with 165s, so an
    # encoder that reads memory it never wrote gives other files than this process did
    monkeypatch.setenv('MALLOC_PERTURB_', '165')
    other = generate_dataset(str(tmp_path / 'again'), workers=2, **ARGS)
    for key in ('train', 'val', 'label_map'):
        assert read(paths[key]) == read(other[key])
    rels = [line.split()[0] for line in read(paths['train']).splitlines()]
    for rel in rels:  # the same h264 stream (the mp4 headers carry a creation time)
        assert packets(osp.join(paths['videos'], rel)) == packets(osp.join(other['videos'], rel))
    changed = generate_dataset(str(tmp_path / 'seed4'), workers=1, **dict(ARGS, seed=4))
    assert not np.array_equal(decoded(osp.join(changed['videos'], rels[0])),
                              decoded(osp.join(paths['videos'], rels[0])))


def packets(path):
    with av.open(path) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def decoded(path):
    results = PyAVInit()(dict(filename=path))
    results['frame_inds'] = np.arange(results['total_frames'])
    return PyAVDecode()(results)['imgs']


@pytest.mark.parametrize('init,decode', [(DecordInit, DecordDecode), (PyAVInit, PyAVDecode),
                                         (OpenCVInit, OpenCVDecode)],
                         ids=['decord', 'pyav', 'opencv'])
def test_every_backend_decodes_the_rendered_frames(dataset, init, decode):
    root, paths = dataset
    rel = read(paths['val']).splitlines()[0].split()[0]
    spec = json.loads(read(osp.join(root, 'meta.json')))['clips'][rel]
    clip = render_clip(_spec_from_dict(spec))
    results = init()(dict(filename=osp.join(paths['videos'], rel)))
    assert results['total_frames'] == 16
    results['frame_inds'] = np.arange(16)
    frames = decode()(results)['imgs']
    assert frames.shape == clip.shape
    # h264 at crf 18 in yuv420p: close to the rendering, not bit-exact
    assert np.abs(frames.astype(int) - clip).mean() < 4


def _spec_from_dict(d):
    from mmaction.synthetic.videos import ClipSpec, ObjectSpec
    d = copy.deepcopy(d)
    d['objects'] = [ObjectSpec(**o) for o in d['objects']]
    return ClipSpec(**d)


def test_time_reversal_turns_one_class_into_the_other():
    """A 'left' clip is a 'right' clip played backwards (same shapes, colours, background):
    so the set of frames, any single frame and the average frame carry no class."""
    rng = np.random.default_rng(0)
    spec = sample_clip_spec(rng, 0, size=64, num_frames=16)
    (obj, ) = spec.objects
    backwards = copy.deepcopy(spec)
    backwards.label = 1
    end_x = (obj.start[0] + (spec.num_frames - 1) * obj.velocity[0]) % spec.size
    backwards.objects[0].start = (end_x, obj.start[1])
    backwards.objects[0].velocity = (-obj.velocity[0], 0.0)
    forward_frames, backward_frames = render_clip(spec), render_clip(backwards)
    diff = np.abs(forward_frames[::-1].astype(int) - backward_frames)
    assert diff.max() <= 1  # sub-pixel rounding of the same positions
    assert not np.array_equal(forward_frames, forward_frames[::-1])  # it does move


def test_a_horizontal_flip_reverses_the_class():
    """The config's flip_label_map {0: 1, 1: 0}: a mirrored 'right' clip is a 'left' clip."""
    rng = np.random.default_rng(1)
    spec = sample_clip_spec(rng, 0, size=64, num_frames=8)
    spec.objects[0].shape = 'diamond'  # every shape is left-right symmetric
    spec.background = (spec.background[0], spec.background[0], 0.0)  # a plain background
    mirrored = copy.deepcopy(spec)
    mirrored.label = 1
    x, y = spec.objects[0].start
    mirrored.objects[0].start = ((spec.size - 1 - x) % spec.size, y)  # pixel i <-> size-1-i
    mirrored.objects[0].velocity = (-spec.objects[0].velocity[0], 0.0)
    wrong = copy.deepcopy(mirrored)  # mirrored, but still moving right
    wrong.objects[0].velocity = spec.objects[0].velocity
    flipped = render_clip(spec)[:, :, ::-1].astype(int)
    diff = np.abs(flipped - render_clip(mirrored)).mean()  # anti-aliased edges round apart
    assert diff < 0.2
    assert np.abs(flipped - render_clip(wrong)).mean() > 10 * diff


def test_single_frames_have_the_same_position_distribution_for_both_classes():
    """Each frame's object position is uniform whatever the direction (wrap-around)."""
    rng = np.random.default_rng(2)
    for t in (0, 15):
        xs = {label: [(s.objects[0].start[0] + t * s.objects[0].velocity[0]) % 64
                      for s in (sample_clip_spec(rng, label, 64, 16) for _ in range(4000))]
              for label in (0, 1)}
        hist = {k: np.histogram(v, bins=8, range=(0, 64))[0] / len(v) for k, v in xs.items()}
        assert np.abs(hist[0] - hist[1]).max() < 0.04
        assert np.abs(hist[0] - 1 / 8).max() < 0.04


def test_two_lanes_and_bad_labels():
    assert class_names(2) == ('top right, bottom right', 'top right, bottom left',
                              'top left, bottom right', 'top left, bottom left')
    assert lane_directions(2, 2) == (-1, 1)
    spec = sample_clip_spec(np.random.default_rng(0), 1, size=64, num_lanes=2)
    assert [np.sign(o.velocity[0]) for o in spec.objects] == [1, -1]
    assert spec.objects[0].start[1] < 32 <= spec.objects[1].start[1]
    with pytest.raises(ValueError, match=r'label must be in \[0, 2\)'):
        sample_clip_spec(np.random.default_rng(0), 2)
