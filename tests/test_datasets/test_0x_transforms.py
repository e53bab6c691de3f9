"""The transforms AIM's configs name, against mmaction2 0.x's definitions worked out by hand.

Each expected value here is computed from 0.x's formula and its random draws (numpy's or
Python's generator, seeded), written out in the test, never taken from our own output:

* ``ColorJitter``: ``alpha ~ N(0, alpha_std)`` (3 draws), every pixel moves by
  ``offset[c] = sum_k eig_vec[c][k] * alpha[k] * eig_val[k]``; with ``color_space_aug``
  first brightness ``U(-32, 32)``, contrast ``U(.6, 1.4)``, saturation ``U(.6, 1.4)``, hue
  ``U(-18, 18)``, an order coin, then 4 coins per frame. Our frames stay uint8: the value
  is 0.x's float rounded to the nearest integer and clipped to 0..255.
* crops take ``img_shape`` from the frames when the results have none, and multi-crops
  write one ``crop_bbox`` row per output frame.
* ``ToTensor`` turns a number into shape ``(1,)``; ``ImageToTensor``, ``Transpose``,
  ``MultiGroupCrop``, ``FrameSelector`` exist with 0.x's arguments.
"""
import random

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmaction.datasets.transforms import (
    CenterCrop,
    Collect,
    ColorJitter,
    FormatShape,
    FrameSelector,
    ImageToTensor,
    MultiGroupCrop,
    MultiScaleCrop,
    Normalize,
    RandomCrop,
    RandomResizedCrop,
    RawFrameDecode,
    Resize,
    SampleFrames,
    TenCrop,
    ThreeCrop,
    ToTensor,
    Transpose,
)
from mmaction.engine.config import ConfigError
from mmaction.engine.config.options import check_option_keys
from mmaction.models.data_preprocessor import ActionDataPreprocessor
from mmaction.registry import TRANSFORMS
from .conftest import frame_index

# 0.x's defaults, copied from its source as numbers (ImageNet, RGB, 0-255 scale)
EIG_VAL = [55.46, 4.794, 1.148]
EIG_VEC = [[-0.5675, 0.7192, 0.4009],
           [-0.5808, -0.0045, -0.8140],
           [-0.5836, -0.6948, 0.4203]]
MEAN = [122.769, 116.74, 104.04]
STD = [68.493, 66.63, 70.321]


def all_levels(frames=2):
    """Frames holding every level 0..255 in every channel (channels shifted apart)."""
    levels = np.arange(256).reshape(16, 16)
    frame = np.stack([levels, np.roll(levels, 5), np.roll(levels, 100)], -1)
    return np.stack([frame] * frames).astype(np.uint8)


def lighting_offset(alpha, eig_val=EIG_VAL, eig_vec=EIG_VEC):
    return np.array([sum(eig_vec[c][k] * alpha[k] * eig_val[k] for k in range(3))
                     for c in range(3)])


def rng_state():
    """numpy's global generator state, comparable (same state = same draws consumed)."""
    _, keys, pos, has_gauss, cached = np.random.get_state()
    return keys.tolist(), pos, has_gauss, cached


def assert_rounded_0x(out, value_0x):
    """``out`` (uint8) is 0.x's float ``value_0x`` rounded and clipped to 0..255; a value
    within 1e-3 of .5 may round either way (float32 in 0.x, float64 here)."""
    clipped = np.clip(value_0x, 0, 255)
    assert out.dtype == np.uint8
    assert np.abs(out - clipped).max() <= 0.5 + 1e-3
    clear = np.abs(np.abs(clipped - np.floor(clipped)) - 0.5) > 1e-3
    assert np.array_equal(out[clear], np.rint(clipped[clear]))


# ------------------------------------------------------------------------- ColorJitter
def test_color_jitter_adds_0x_pca_lighting_noise():
    imgs = all_levels()
    np.random.seed(0)
    alpha = np.random.normal(0, 0.1, size=3)
    draws_after = rng_state()
    offset = lighting_offset(alpha)  # seed 0: (-5.369, -5.775, -5.796)
    np.random.seed(0)
    out = ColorJitter()(dict(imgs=imgs.copy()))
    assert rng_state() == draws_after  # 3 normal draws, as 0.x
    assert_rounded_0x(out['imgs'], imgs + offset)
    change = out['imgs'].astype(int) - imgs
    unclipped = imgs >= 6
    assert (change[unclipped.all(-1)] == [-5, -6, -6]).all()  # rint of the offset
    assert (out['imgs'][imgs <= 5] == 0).all()  # 0.x gave negative values; clipped
    assert out['eig_val'].tolist() == pytest.approx(EIG_VAL)
    assert out['eig_vec'].tolist() == [pytest.approx(row) for row in EIG_VEC]
    assert out['alpha_std'] == 0.1 and out['color_space_aug'] is False


def test_color_jitter_uses_the_given_statistics():
    imgs = all_levels(1)
    eig_val, eig_vec = [100.0, 10.0, 1.0], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    np.random.seed(5)
    offset = lighting_offset(np.random.normal(0, 0.3, size=3), eig_val, eig_vec)
    np.random.seed(5)
    out = ColorJitter(alpha_std=0.3, eig_val=eig_val, eig_vec=eig_vec)(dict(imgs=imgs))
    assert_rounded_0x(out['imgs'], imgs + offset)
    assert out['alpha_std'] == 0.3 and out['eig_val'].tolist() == eig_val


def _luma(x):
    return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]


def _hue_0x(x, alpha):
    """0.x's hue step: RGB -> YIQ, rotate (I, Q) by alpha * pi, back to RGB."""
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    i = 0.596 * r - 0.274 * g - 0.321 * b
    q = 0.211 * r - 0.523 * g + 0.311 * b
    u, w = np.cos(alpha * np.pi), np.sin(alpha * np.pi)
    i, q = u * i - w * q, w * i + u * q
    return np.stack([y + 0.956 * i + 0.621 * q, y - 0.272 * i - 0.647 * q,
                     y - 1.107 * i + 1.705 * q], -1)


def test_color_jitter_color_space_aug_follows_0x_draws_frame_by_frame():
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (6, 5, 7, 3), dtype=np.uint8)
    seed = 3
    np.random.seed(seed)
    delta = np.random.uniform(-32, 32)
    contrast = np.random.uniform(0.6, 1.4)
    saturation = np.random.uniform(0.6, 1.4)
    hue = np.random.uniform(-18, 18)
    contrast_first = np.random.rand() > 0.5
    expected, applied = [], []
    for frame in imgs.astype(np.float64):
        steps = ['contrast', 'saturation', 'hue'] if contrast_first else \
            ['saturation', 'hue', 'contrast']
        done = []
        if np.random.rand() > 0.5:
            frame, done = frame + delta, ['brightness']
        for step in steps:
            if np.random.rand() > 0.5:
                done.append(step)
                if step == 'contrast':
                    frame = frame * contrast
                elif step == 'saturation':
                    frame = saturation * frame + (1 - saturation) * _luma(frame)[..., None]
                else:
                    frame = _hue_0x(frame, hue)
        expected.append(frame)
        applied.append(tuple(done))
    offset = lighting_offset(np.random.normal(0, 0.1, size=3))
    draws_after = rng_state()
    assert len(set(applied)) > 1  # this seed gives frames different steps, as 0.x does

    np.random.seed(seed)
    out = ColorJitter(color_space_aug=True)(dict(imgs=imgs.copy()))
    assert rng_state() == draws_after
    assert_rounded_0x(out['imgs'], np.stack(expected) + offset)
    assert out['color_space_aug'] is True


def test_color_jitter_output_goes_through_the_rest_of_the_pipeline():
    """ColorJitter -> Normalize -> FormatShape -> Collect -> data preprocessor gives 0.x's
    normalised input, ``(x + offset - mean) / std``, to within half a level over std."""
    imgs = all_levels(4)
    np.random.seed(11)
    offset = lighting_offset(np.random.normal(0, 0.1, size=3))
    np.random.seed(11)
    results = dict(imgs=imgs.copy(), num_clips=1, clip_len=4, label=1)
    for step in (ColorJitter(), Normalize(MEAN, STD), FormatShape('NCTHW'),
                 Collect(keys=['imgs', 'label'], meta_keys=[]), ToTensor(keys=['imgs'])):
        results = step(results)
    pre = ActionDataPreprocessor(mean=MEAN, std=STD)
    got = pre(dict(inputs=[results['inputs']], data_samples=[results['data_samples']]))
    got = got['inputs'][0, 0].permute(1, 2, 3, 0).numpy()  # (T, H, W, C)
    expected = (np.clip(imgs + offset, 0, 255) - MEAN) / STD
    assert np.abs(got - expected).max() <= 0.5 / min(STD) + 1e-5


def test_color_jitter_refuses_the_later_arguments_and_names_the_new_step():
    with pytest.raises(TypeError, match='BrightnessContrastSaturationHueJitter'):
        ColorJitter(brightness=0.4, contrast=0.4)
    with pytest.raises(TypeError, match='BrightnessContrastSaturationHueJitter'):
        TRANSFORMS.build(dict(type='ColorJitter', hue=0.1))
    later = TRANSFORMS.build(dict(type='BrightnessContrastSaturationHueJitter', hue=0.1))
    assert later.hue == (-0.1, 0.1)
    with pytest.raises(ValueError, match='3x3'):
        ColorJitter(eig_vec=[[1, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match='alpha_std'):
        ColorJitter(alpha_std=-1)


def test_cfg_options_on_color_jitter_are_its_0x_arguments():
    cfg = Config(dict(data=dict(train=dict(type='VideoDataset', pipeline=[
        dict(type='ColorJitter'), dict(type='Normalize', mean=MEAN, std=STD)]))))
    check_option_keys(cfg, {'data.train.pipeline.0.alpha_std': 0.2,
                            'data.train.pipeline.0.color_space_aug': True})
    with pytest.raises(ConfigError, match='brightness'):
        check_option_keys(cfg, {'data.train.pipeline.0.brightness': 0.4})


# ------------------------------------------------------------------------- crops
def coords(n=2, h=48, w=64):
    """Frame t, pixel (y, x) holds (x, y, t)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([np.stack([x, y, np.full_like(x, t)], -1) for t in range(n)]).astype(
        np.uint8)


def test_crops_without_img_shape_take_it_from_the_frames():
    src = coords()  # 48 x 64
    out = CenterCrop(30)(dict(imgs=src))
    assert out['crop_bbox'].tolist() == [17, 9, 47, 39]  # ((64-30)//2, (48-30)//2)
    np.random.seed(4)
    y1, x1 = np.random.randint(0, 48 - 20), np.random.randint(0, 64 - 20)  # 0.x: y, then x
    np.random.seed(4)
    out = RandomCrop(20)(dict(imgs=src))
    assert out['crop_bbox'].tolist() == [x1, y1, x1 + 20, y1 + 20]
    assert np.array_equal(out['imgs'], src[:, y1:y1 + 20, x1:x1 + 20])
    out = Resize((-1, 24))(dict(imgs=src))  # short side 48 -> 24
    assert out['img_shape'] == (24, 32) and out['scale_factor'].tolist() == [0.5, 0.5]
    for step in (RandomResizedCrop(), MultiScaleCrop(32, scales=(1, 0.8))):
        np.random.seed(2)
        without = step(dict(imgs=src))
        np.random.seed(2)
        given = step(dict(imgs=src, img_shape=(48, 64)))
        assert without['crop_bbox'].tolist() == given['crop_bbox'].tolist()
    with pytest.raises(KeyError, match='decoder'):
        CenterCrop(10)(dict(label=1))


def test_multi_crops_write_one_box_per_output_frame():
    src = coords(n=2, h=32, w=64)
    out = ThreeCrop(32)(dict(imgs=src))
    # 0.x: for each crop (left x=0, right x=2*16, middle x=16) the box once per frame
    assert out['crop_bbox'].tolist() == [[0, 0, 32, 32]] * 2 + [[32, 0, 64, 32]] * 2 + \
        [[16, 0, 48, 32]] * 2
    out = TenCrop(24)(dict(imgs=coords(n=3, h=48, w=64)))
    # corners and centre (step (64-24)//4 = 10, (48-24)//4 = 6), each: crop + mirror, 3 frames
    corners = [(0, 0), (40, 0), (0, 24), (40, 24), (20, 12)]
    assert out['crop_bbox'].tolist() == [[x, y, x + 24, y + 24] for x, y in corners
                                         for _ in range(2 * 3)]
    assert len(out['crop_bbox']) == len(out['imgs']) == 30


def test_multi_group_crop_draws_as_0x():
    src = coords(n=3, h=40, w=50)
    random.seed(9)
    boxes = []
    for _ in range(4):  # 0.x: Python's random, x then y, both edges included
        x1 = random.randint(0, 50 - 24)
        y1 = random.randint(0, 40 - 16)
        boxes.append([x1, y1, x1 + 24, y1 + 16])
    random.seed(9)
    out = MultiGroupCrop((24, 16), groups=4)(dict(imgs=src))
    assert out['imgs'].shape == (12, 16, 24, 3) and out['img_shape'] == (16, 24)
    assert out['crop_bbox'].tolist() == [box for box in boxes for _ in range(3)]
    for g, (x1, y1, _, _) in enumerate(boxes):
        assert np.array_equal(out['imgs'][3 * g:3 * g + 3], src[:, y1:y1 + 16, x1:x1 + 24])
    out.update(num_clips=1, clip_len=3)
    assert FormatShape('NCTHW')(out)['imgs'].shape == (4, 3, 3, 16, 24)  # groups are views
    with pytest.raises(ValueError, match='groups'):
        MultiGroupCrop(8, groups=0)
    with pytest.raises(ValueError, match='Resize'):
        MultiGroupCrop(60, groups=1)(dict(imgs=src))


# ------------------------------------------------------------------------- formatting
def test_to_tensor_converts_as_0x():
    results = dict(label=3, score=0.25, flag=True, inds=[1, 2], n=np.int64(7),
                   arr=np.arange(6).reshape(2, 3))
    out = ToTensor(keys=['label', 'score', 'flag', 'inds', 'n', 'arr'])(dict(results))
    assert out['label'].shape == (1, ) and out['label'].dtype == torch.int64
    assert out['label'].tolist() == [3]
    assert out['score'].shape == (1, ) and out['score'].dtype == torch.float32
    assert out['flag'].tolist() == [1]
    assert out['inds'].tolist() == [1, 2] and out['n'].tolist() == [7]
    assert out['arr'].data_ptr() == results['arr'].ctypes.data  # shares memory
    with pytest.raises(TypeError, match="'name'"):
        ToTensor(keys=['name'])(dict(name='v.mp4'))


def test_image_to_tensor_and_transpose():
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    out = ImageToTensor(keys=['img'])(dict(img=img))['img']
    assert out.shape == (3, 4, 5) and out[2, 3, 1] == img[3, 1, 2]
    assert out.data_ptr() == img.ctypes.data
    with pytest.raises(ValueError, match='FormatShape'):
        ImageToTensor(keys=['imgs'])(dict(imgs=np.zeros((2, 4, 5, 3), np.uint8)))
    clip = np.zeros((2, 4, 5, 3), np.uint8)
    clip[1, 2, 3, 0] = 9
    out = Transpose(keys=['imgs'], order=[3, 0, 1, 2])(dict(imgs=clip))['imgs']
    assert out.shape == (3, 2, 4, 5) and out[0, 1, 2, 3] == 9
    tensor = Transpose(keys=['imgs'], order=(3, 0, 1, 2))(dict(imgs=torch.from_numpy(clip)))
    assert tensor['imgs'].shape == (3, 2, 4, 5) and tensor['imgs'][0, 1, 2, 3] == 9
    with pytest.raises(ValueError, match='each axis'):
        Transpose(keys=['imgs'], order=(0, 0, 1))
    with pytest.raises(ValueError, match='3 axes'):
        Transpose(keys=['img'], order=(0, 1, 2, 3))(dict(img=img))
    packed = dict(inputs=torch.zeros(1), data_samples=None)
    with pytest.raises(KeyError, match='before Collect'):
        Transpose(keys=['imgs'], order=(0, 1))(packed)


# ------------------------------------------------------------------------- loading, sampling
def test_frame_selector_is_raw_frame_decode_and_warns(frame_folder):
    with pytest.warns(UserWarning, match='RawFrameDecode'):
        selector = TRANSFORMS.build(dict(type='FrameSelector', io_backend='disk'))
    assert isinstance(selector, RawFrameDecode)
    results = selector(dict(frame_dir=frame_folder, filename_tmpl='img_{:05}.png',
                            frame_inds=np.array([3, 1])))
    assert [frame_index(f) for f in results['imgs']] == [2, 0]
    with pytest.warns(UserWarning):  # 0.x's test_rawframe_selector expects a UserWarning
        FrameSelector()


def test_twice_sample_counts_its_clips_and_gives_0x_views():
    """0.x writes ``num_clips=2`` for 4 sampled clips; we write 4. FormatShape makes the
    same views either way: 0.x's reshape (-1, 2, T, ...) puts the extra clips on its first
    axis, and the views come out in the same memory order."""
    results = SampleFrames(2, 1, 2, test_mode=True, twice_sample=True)(
        dict(total_frames=20, start_index=0))
    assert results['num_clips'] == 4
    n = len(results['frame_inds'])
    imgs = np.zeros((n, 2, 2, 3), np.uint8)
    imgs[..., 0] = results['frame_inds'][:, None, None]
    ours = FormatShape('NCTHW')(dict(results, imgs=imgs))['imgs']
    as_0x = imgs.reshape(-1, 2, 2, 2, 2, 3).transpose(0, 1, 5, 2, 3, 4).reshape(-1, 3, 2, 2, 2)
    assert np.array_equal(ours, as_0x) and ours.shape[0] == 4
