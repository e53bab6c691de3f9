"""Augmentations: sizes worked out by hand, one set of random parameters per clip, label
swaps, the uint8 contract, and RandAugment's operations against PIL."""
import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from mmaction.datasets.transforms import (
    BrightnessContrastSaturationHueJitter,
    CenterCrop,
    ColorJitter,
    Flip,
    Imgaug,
    MultiScaleCrop,
    Normalize,
    RandAugment,
    RandomCrop,
    RandomErasing,
    RandomResizedCrop,
    Resize,
    TenCrop,
    ThreeCrop,
)
from mmaction.datasets.transforms import rand_augment as ra

MEAN = [122.769, 116.74, 104.04]
STD = [68.493, 66.63, 70.321]


def coords_clip(n=3, h=48, w=64):
    """Frames whose pixel (y, x) of frame t holds (x, y, t): crops can be located exactly."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([np.stack([x, y, np.full_like(x, t)], -1) for t in range(n)]).astype(np.uint8)


def textured_frame(h=48, w=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def results_of(imgs, **extra):
    return dict(imgs=imgs, img_shape=imgs.shape[1:3], **extra)


# ------------------------------------------------------------------------- Resize
@pytest.mark.parametrize('w,h,scale,keep_ratio,expected', [
    (64, 48, (-1, 24), True, (24, 32)),  # short side 48 -> 24: factor 0.5
    (65, 48, (-1, 24), True, (24, 33)),  # int(65 * 0.5 + 0.5) = 33
    (48, 64, (-1, 24), True, (32, 24)),  # portrait: the short side is the width
    (64, 48, (100, 30), True, (30, 40)),  # min(100 / 64, 30 / 48) = 0.625
    (64, 48, 0.5, True, (24, 32)),
    (64, 48, (20, 10), False, (10, 20)),  # (w, h)
])
def test_resize_sizes(w, h, scale, keep_ratio, expected):
    imgs = np.zeros((2, h, w, 3), np.uint8)
    out = Resize(scale, keep_ratio=keep_ratio)(results_of(imgs))
    assert out['imgs'].shape == (2, ) + expected + (3, )
    assert out['img_shape'] == expected and out['imgs'].dtype == np.uint8
    assert out['scale_factor'].tolist() == pytest.approx([expected[1] / w, expected[0] / h])


def test_resize_to_the_same_size_copies_nothing():
    imgs = np.zeros((2, 256, 340, 3), np.uint8)
    assert Resize((-1, 256))(results_of(imgs))['imgs'] is imgs


def test_resize_matches_opencv_per_frame():
    import cv2
    imgs = np.stack([textured_frame(seed=s) for s in range(3)])
    out = Resize((20, 10), keep_ratio=False)(results_of(imgs))['imgs']
    for src, dst in zip(imgs, out):
        assert np.array_equal(dst, cv2.resize(src, (20, 10), interpolation=cv2.INTER_LINEAR))


# ------------------------------------------------------------------------- crops
def assert_same_crop_in_every_frame(out, src):
    x1, y1, x2, y2 = out['crop_bbox']
    assert out['imgs'].shape[1:3] == (y2 - y1, x2 - x1) == out['img_shape']
    assert np.array_equal(out['imgs'], src[:, y1:y2, x1:x2])


@pytest.mark.parametrize('transform', [
    RandomResizedCrop(),
    RandomResizedCrop(area_range=(0.2, 0.3)),
    MultiScaleCrop(32, scales=(1, 0.875, 0.75, 0.66)),
    MultiScaleCrop(32, scales=(1, 0.8), random_crop=True),
    MultiScaleCrop(32, scales=(1, 0.8), num_fixed_crops=13),
    RandomCrop(20),
    CenterCrop(30),
])
def test_random_crops_cut_the_same_box_from_every_frame(transform):
    src = coords_clip()
    np.random.seed(0)
    boxes = set()
    for _ in range(20):
        out = transform(results_of(src))
        assert_same_crop_in_every_frame(out, src)
        boxes.add(tuple(out['crop_bbox']))
    if not isinstance(transform, CenterCrop):
        assert len(boxes) > 1  # it is random across clips


def test_random_resized_crop_area_and_ratio():
    np.random.seed(0)
    for _ in range(50):
        out = RandomResizedCrop(area_range=(0.25, 0.5), aspect_ratio_range=(0.5, 2))(
            results_of(coords_clip(h=100, w=100)))
        h, w = out['img_shape']
        assert 0.23 <= h * w / 1e4 <= 0.52 and 0.45 <= w / h <= 2.2


def test_center_crop_offsets():
    out = CenterCrop((30, 20))(results_of(coords_clip()))  # (w, h)
    assert out['crop_bbox'].tolist() == [17, 14, 47, 34]  # (64-30)//2, (48-20)//2


def test_crop_larger_than_frame_says_how_to_fix():
    with pytest.raises(ValueError, match='Resize'):
        CenterCrop(100)(results_of(coords_clip()))


def test_three_crop_views_and_order():
    src = coords_clip(n=2, h=32, w=64)
    out = ThreeCrop(32)(results_of(src))
    imgs = out['imgs']
    assert imgs.shape == (6, 32, 32, 3)
    # left, right, middle: x offsets 0, 2 * 16, 16; frames of each crop in time order
    assert [int(f[0, 0, 0]) for f in imgs] == [0, 0, 32, 32, 16, 16]
    assert [int(f[0, 0, 2]) for f in imgs] == [0, 1, 0, 1, 0, 1]
    tall = ThreeCrop(32)(results_of(coords_clip(n=1, h=64, w=32)))['imgs']
    assert [int(f[0, 0, 1]) for f in tall] == [0, 32, 16]  # top, bottom, middle
    with pytest.raises(ValueError, match='full'):
        ThreeCrop(20)(results_of(src))


def test_ten_crop_views_and_order():
    src = coords_clip(n=1, h=48, w=64)
    imgs = TenCrop(24)(results_of(src))['imgs']
    assert imgs.shape == (10, 24, 24, 3)
    # corners and centre at x = 0, 40, 0, 40, 20 (step (64-24)//4 = 10), y = 0, 0, 24, 24, 12
    corners = [(0, 0), (40, 0), (0, 24), (40, 24), (20, 12)]
    for k, (x, y) in enumerate(corners):
        plain, mirrored = imgs[2 * k], imgs[2 * k + 1]
        assert (int(plain[0, 0, 0]), int(plain[0, 0, 1])) == (x, y)
        assert np.array_equal(mirrored, plain[:, ::-1])


# ------------------------------------------------------------------------- Flip
def test_flip_mirrors_every_frame_and_swaps_labels():
    src = coords_clip()
    mapping = {86: 87, 87: 86, 93: 94, 94: 93}
    out = Flip(flip_ratio=1, flip_label_map=mapping)(results_of(src, label=86))
    assert out['flip'] and out['label'] == 87
    assert np.array_equal(out['imgs'], src[:, :, ::-1])
    assert Flip(flip_ratio=1, flip_label_map=mapping)(results_of(src, label=5))['label'] == 5
    out = Flip(flip_ratio=0, flip_label_map=mapping)(results_of(src, label=86))
    assert not out['flip'] and out['label'] == 86 and out['imgs'] is src
    vertical = Flip(flip_ratio=1, direction='vertical')(results_of(src))['imgs']
    assert np.array_equal(vertical, src[:, ::-1])


def test_flip_ratio_is_a_probability_per_clip():
    np.random.seed(0)
    flips = [Flip(0.3)(results_of(coords_clip()))['flip'] for _ in range(2000)]
    assert 0.26 < np.mean(flips) < 0.34


# ------------------------------------------------------------------------- photometric
def test_brightness_contrast_saturation_hue_jitter_hand_computed():
    jitter = BrightnessContrastSaturationHueJitter
    clip = np.zeros((2, 4, 4, 3), np.uint8)
    clip[..., 0] = 255  # pure red
    clip[1] = 100
    bright = jitter(brightness=(1.5, 1.5), contrast=0, saturation=0, hue=0)
    out = bright(results_of(clip.copy()))['imgs']
    assert (out[0] == [255, 0, 0]).all() and (out[1] == 150).all()
    hue = jitter(brightness=0, contrast=0, saturation=0, hue=(0.5, 0.5))
    out = hue(results_of(clip.copy()))['imgs']
    assert (out[0] == [0, 255, 255]).all()  # half a turn: red -> cyan
    gray = jitter(brightness=0, contrast=0, saturation=(0, 0), hue=0)
    assert (gray(results_of(clip.copy()))['imgs'][0] == 76).all()  # 0.299 * 255


def test_random_erasing_fills_the_mean_colour_in_the_same_box_of_every_frame():
    src = np.stack([textured_frame(seed=s) for s in range(4)])
    results = Normalize(MEAN, STD)(results_of(src.copy()))
    np.random.seed(3)
    out = RandomErasing(probability=1.0)(results)['imgs']
    erased = (out == [123, 117, 104]).all(-1) & (src != [123, 117, 104]).any(-1)
    assert erased.any()
    assert (erased == erased[0]).all()  # the same rectangle in every frame
    ys, xs = np.nonzero(erased[0])
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    assert (out[:, box[0], box[1]] == [123, 117, 104]).all()
    keep = np.ones(out.shape[1:3], bool)
    keep[box] = False
    assert np.array_equal(out[:, keep], src[:, keep])
    np.random.seed(3)
    assert RandomErasing(probability=0.0)(results_of(src))['imgs'] is src


def test_normalize_keeps_uint8_and_records_the_statistics():
    src = coords_clip()
    out = Normalize(MEAN, STD, to_bgr=False)(results_of(src))
    assert out['imgs'] is src
    assert out['img_norm_cfg']['mean'].tolist() == pytest.approx(MEAN)
    assert out['img_norm_cfg']['std'].tolist() == pytest.approx(STD)
    assert out['img_norm_cfg']['to_bgr'] is False
    with pytest.raises(ValueError, match='3 means'):
        Normalize([1, 2], [1, 2])


# ------------------------------------------------------------------------- consistency
@pytest.mark.parametrize('transform', [
    RandomResizedCrop(), MultiScaleCrop(32, scales=(1, 0.8), random_crop=True),
    RandomCrop(24), Flip(0.5), ColorJitter(), ColorJitter(alpha_std=1.0),
    BrightnessContrastSaturationHueJitter(), RandomErasing(probability=0.7),
    RandomErasing(probability=1.0, mode='pixel'), RandAugment(n=4, m=9),
    RandAugment(n=len(ra.OPS), m=12), Imgaug(transforms=[dict(type='RandAugment', n=4, m=7)]),
])
def test_every_frame_of_a_clip_gets_the_same_augmentation(transform):
    """A clip of identical frames stays a clip of identical frames."""
    frame = textured_frame()
    for seed in range(8):
        np.random.seed(seed)
        out = transform(results_of(np.repeat(frame[None], 4, axis=0)))['imgs']
        assert out.dtype == np.uint8 and out.ndim == 4
        assert all(np.array_equal(f, out[0]) for f in out[1:]), f'seed {seed}'


# ------------------------------------------------------------------------- RandAugment
@pytest.mark.parametrize('seed', range(3))
def test_photometric_operations_equal_pil(seed):
    img = textured_frame(17, 23, seed)
    img[:5] //= 3  # a skewed histogram for autocontrast / equalize
    pil, clip = Image.fromarray(img), img[None]

    def same(ours, reference):
        assert np.array_equal(ours[0], np.asarray(reference))

    same(ra.autocontrast(clip), ImageOps.autocontrast(pil))
    same(ra.equalize(clip), ImageOps.equalize(pil))
    same(ra.invert(clip), ImageOps.invert(pil))
    same(ra.posterize(clip, 5), ImageOps.posterize(pil, 5))
    same(ra.solarize(clip, 150), ImageOps.solarize(pil, 150))
    for factor in (0.3, 1.61):
        same(ra.color(clip, factor), ImageEnhance.Color(pil).enhance(factor))
        same(ra.contrast(clip, factor), ImageEnhance.Contrast(pil).enhance(factor))
        same(ra.brightness(clip, factor), ImageEnhance.Brightness(pil).enhance(factor))
        same(ra.sharpness(clip, factor), ImageEnhance.Sharpness(pil).enhance(factor))
    same(ra.blur(clip), pil.filter(ImageFilter.BLUR))
    same(ra.smooth(clip), pil.filter(ImageFilter.SMOOTH))


def test_clip_statistics_are_shared_by_all_frames():
    # a dark and a bright frame: autocontrast stretches the clip's range, not each frame's
    clip = np.stack([np.full((4, 4, 3), 50, np.uint8), np.full((4, 4, 3), 150, np.uint8)])
    out = ra.autocontrast(clip)
    assert (out[0] == 0).all() and (out[1] == 255).all()


def test_magnitude_mapping_at_m_7():
    aug = RandAugment(n=1, m=7)
    levels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, -1)
    # posterize keeps 8 - int(7 * 6 / 30) = 7 bits; solarize threshold 256 - int(7 * 256 / 30)
    # = 197
    assert (aug.apply_op(levels, 'Posterize', 7)[..., 0].reshape(-1) ==
            np.arange(256) & 0xFE).all()
    solarized = aug.apply_op(levels, 'Solarize', 7)[..., 0].reshape(-1)
    assert solarized[196] == 196 and solarized[197] == 255 - 197
    # enhancement factors are 1 +- 0.21
    np.random.seed(0)
    factors = {round(aug._enhance_factor(7), 6) for _ in range(50)}
    assert factors == {0.79, 1.21}


def test_rand_augment_flip_swaps_labels_through_the_recorded_map():
    asym = coords_clip(n=1)
    seen = set()
    for seed in range(30):
        np.random.seed(seed)
        results = dict(imgs=asym, img_shape=asym.shape[1:3], label=86,
                       flip_label_map={86: 87, 87: 86})
        out = RandAugment(n=0, m=0)(results)  # only the flip (a crop of 0 / 224)
        flipped = np.array_equal(out['imgs'], asym[:, :, ::-1])
        assert flipped or np.array_equal(out['imgs'], asym)
        assert out['label'] == (87 if flipped else 86)
        seen.add(flipped)
    assert seen == {True, False}


def test_imgaug_refuses_what_is_not_implemented():
    with pytest.raises(ValueError, match='RandAugment'):
        Imgaug(transforms=[dict(type='GaussianBlur', sigma=1)])
    with pytest.raises(ValueError, match='default'):
        Imgaug(transforms='default')
