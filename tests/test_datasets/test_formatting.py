"""View layout and packing: mmaction2 0.x's NCTHW order, one copy, AIM's Collect/ToTensor."""
import numpy as np
import pytest
import torch

from mmaction.datasets.transforms import Collect, FormatShape, PackActionInputs, ThreeCrop, ToTensor
from mmaction.structures import ActionDataSample


def tagged_frames(num_crops, num_clips, clip_len, h=4, w=4):
    """Frame k (crop-major, then clip, then time) filled with value k in channel 0."""
    n = num_crops * num_clips * clip_len
    imgs = np.zeros((n, h, w, 3), np.uint8)
    imgs[..., 0] = np.arange(n)[:, None, None]
    imgs[..., 1] = 200
    return imgs


def test_ncthw_views_are_crop_major_then_clip():
    imgs = tagged_frames(num_crops=3, num_clips=2, clip_len=4)
    out = FormatShape('NCTHW')(dict(imgs=imgs, num_clips=2, clip_len=4))['imgs']
    assert out.shape == (6, 3, 4, 4, 4) and out.flags.c_contiguous
    # view v = crop * 2 + clip holds frames v*4 .. v*4+3 in time order; channel 1 is 200
    for v in range(6):
        assert out[v, 0, :, 0, 0].tolist() == [v * 4 + t for t in range(4)]
        assert (out[v, 1] == 200).all()
    assert FormatShape('NCTHW')(dict(imgs=imgs, num_clips=2, clip_len=4))['input_shape'] == \
        (6, 3, 4, 4, 4)


def test_ncthw_after_three_crop_matches_sampled_clips():
    # 2 clips of 2 frames, frames tagged 0..3 in channel 2; ThreeCrop makes crops the outer axis
    imgs = np.zeros((4, 8, 24, 3), np.uint8)
    imgs[..., 2] = np.arange(4)[:, None, None]
    imgs[:, :, :, 0] = np.arange(24)[None, None, :]
    results = ThreeCrop(8)(dict(imgs=imgs, img_shape=(8, 24)))
    results.update(num_clips=2, clip_len=2)
    out = FormatShape('NCTHW')(results)['imgs']
    assert out.shape == (6, 3, 2, 8, 8)
    assert [out[v, 2, :, 0, 0].tolist() for v in range(6)] == [[0, 1], [2, 3]] * 3
    assert [int(out[v, 0, 0, 0, 0]) for v in range(6)] == [0, 0, 16, 16, 8, 8]


@pytest.mark.parametrize('dtype, channels, contiguous', [
    (np.uint8, 3, True), (np.float32, 3, True), (np.uint8, 4, True), (np.float32, 2, True),
    (np.float64, 3, True), (np.uint8, 1, True), (np.int16, 3, True), (np.uint8, 3, False)])
@pytest.mark.parametrize('input_format', ['NCTHW', 'NCHW'])
def test_layout_equals_a_plain_transpose_for_every_dtype_and_channel_count(
        dtype, channels, contiguous, input_format):
    """OpenCV's split takes uint8/float32 with 2-4 channels, numpy the rest: every pixel
    lands where the transpose puts it."""
    rng = np.random.default_rng(0)
    imgs = (rng.random((2 * 3 * 4, 5, 6 if contiguous else 12, channels)) * 250).astype(dtype)
    if not contiguous:
        imgs = imgs[:, :, ::2]
    out = FormatShape(input_format).transform(dict(imgs=imgs, num_clips=3, clip_len=4))['imgs']
    if input_format == 'NCTHW':
        expected = imgs.reshape(6, 4, 5, 6, channels).transpose(0, 4, 1, 2, 3)
    else:
        expected = imgs.transpose(0, 3, 1, 2)
    assert out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)


def test_nchw_and_collapse():
    imgs = tagged_frames(1, 1, 5)
    out = FormatShape('NCHW')(dict(imgs=imgs))['imgs']
    assert out.shape == (5, 3, 4, 4) and out[3, 0, 0, 0] == 3
    single = FormatShape('NCTHW', collapse=True)(dict(imgs=imgs, num_clips=1, clip_len=5))
    assert single['imgs'].shape == (3, 5, 4, 4)
    with pytest.raises(ValueError, match='do not split'):
        FormatShape('NCTHW')(dict(imgs=imgs, num_clips=2, clip_len=2))


def test_packing_shares_memory_and_fills_the_data_sample():
    imgs = FormatShape('NCTHW')(dict(imgs=tagged_frames(1, 1, 4), num_clips=1,
                                     clip_len=4))['imgs']
    results = dict(imgs=imgs, label=7, filename='v.mp4', frame_inds=np.arange(4), num_clips=1,
                   clip_len=4, img_shape=(4, 4))
    packed = PackActionInputs(meta_keys=('img_shape', ))(dict(results))
    inputs, sample = packed['inputs'], packed['data_samples']
    assert inputs.dtype == torch.uint8 and inputs.shape == (1, 3, 4, 4, 4)
    assert inputs.data_ptr() == imgs.ctypes.data  # no copy
    assert isinstance(sample, ActionDataSample) and sample.gt_label.tolist() == [7]
    assert sample.filename == 'v.mp4' and sample.frame_inds.tolist() == [0, 1, 2, 3]
    assert sample.img_shape == (4, 4)
    with pytest.raises(KeyError, match='flip'):
        PackActionInputs(meta_keys=('flip', ))(dict(results))


def test_aim_collect_then_to_tensor_packs_the_same():
    results = dict(imgs=np.zeros((1, 3, 2, 4, 4), np.uint8), label=3, filename='v.mp4',
                   frame_inds=np.arange(2))
    packed = ToTensor(keys=['imgs', 'label'])(
        Collect(keys=['imgs', 'label'], meta_keys=[])(dict(results)))
    reference = PackActionInputs()(dict(results))
    assert torch.equal(packed['inputs'], reference['inputs'])
    assert packed['data_samples'].gt_label.tolist() == [3]
    assert packed['data_samples'].metainfo.keys() == reference['data_samples'].metainfo.keys()
    # the label is packed even when keys omit it, so evaluation sees it
    assert Collect(keys=['imgs'])(dict(results))['data_samples'].gt_label.tolist() == [3]


def test_to_tensor_before_packing_converts_without_copy():
    imgs = np.zeros((1, 3, 2, 4, 4), np.uint8)
    converted = ToTensor(keys=['imgs', 'label'])(dict(imgs=imgs, label=4))
    assert converted['imgs'].data_ptr() == imgs.ctypes.data
    packed = PackActionInputs()(converted)
    assert packed['inputs'].data_ptr() == imgs.ctypes.data
    assert packed['data_samples'].gt_label.tolist() == [4]
