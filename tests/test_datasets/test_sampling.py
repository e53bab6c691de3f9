"""Frame indices against expectations worked out by hand from mmaction2's / AIM's rules.

Test mode (deterministic): clip ``k`` of ``num_clips`` starts at
``int(k * share + share / 2)`` with ``share = (total - clip_len * interval + 1) / num_clips``,
or at 0 when the video is shorter than a clip. Training draws inside the share. AIM's
``frame_uniform`` splits ``total - 1`` into ``clip_len`` segments ``[round(s*i),
round(s*(i+1))]`` and takes the centre ``(start + end) // 2`` (test) or any frame of it.
"""
import numpy as np
import pytest

from mmaction.datasets.transforms import (
    DenseSampleFrames,
    SampleFrames,
    UniformSampleFrames,
    VideoDecodeError,
)


def sample(sampler, total, start_index=0, **extra):
    return sampler(dict(total_frames=total, start_index=start_index, **extra))


def clips(results):
    return results['frame_inds'].reshape(results['num_clips'], -1).tolist()


# (total, clip_len, interval, num_clips, out_of_bound_opt, expected clips), test mode
TEST_GRID = [
    # share = (40 - 24 + 1) / 2 = 8.5: starts int(4.25) = 4, int(12.75) = 12
    (40, 8, 3, 2, 'loop', [[4, 7, 10, 13, 16, 19, 22, 25], [12, 15, 18, 21, 24, 27, 30, 33]]),
    # exactly one clip long: share 1, start int(0.5) = 0
    (16, 8, 2, 1, 'loop', [[0, 2, 4, 6, 8, 10, 12, 14]]),
    # shorter than the clip: start 0, indices wrap around 10
    (10, 8, 2, 1, 'loop', [[0, 2, 4, 6, 8, 0, 2, 4]]),
    # ... or repeat the last frame that exists (8)
    (10, 8, 2, 1, 'repeat_last', [[0, 2, 4, 6, 8, 8, 8, 8]]),
    # one-frame video
    (1, 4, 1, 1, 'loop', [[0, 0, 0, 0]]),
    # share = (100 - 32 + 1) / 3 = 23: starts int(11.5)=11, int(34.5)=34, int(57.5)=57
    (100, 8, 4, 3, 'loop', [[11 + 4 * k for k in range(8)], [34 + 4 * k for k in range(8)],
                            [57 + 4 * k for k in range(8)]]),
]


@pytest.mark.parametrize('total,clip_len,interval,num_clips,oob,expected', TEST_GRID)
def test_test_mode_indices(total, clip_len, interval, num_clips, oob, expected):
    sampler = SampleFrames(clip_len, interval, num_clips, test_mode=True, out_of_bound_opt=oob)
    results = sample(sampler, total)
    assert clips(results) == expected
    assert results['frame_inds'].dtype == np.int64
    assert (results['clip_len'], results['frame_interval']) == (clip_len, interval)
    assert clips(sample(sampler, total)) == expected  # deterministic


def test_start_index_shifts_indices():
    # share = 37, start int(18.5) = 18; frames counted from 1 (img_00001.jpg)
    sampler = SampleFrames(4, 1, 1, test_mode=True)
    assert sample(sampler, 40, start_index=1)['frame_inds'].tolist() == [19, 20, 21, 22]


def test_twice_sample_adds_clips_at_share_starts():
    # share = 37 / 2 = 18.5: centred starts 9, 27; twice adds starts int(0)=0, int(18.5)=18
    results = sample(SampleFrames(4, 1, 2, test_mode=True, twice_sample=True), 40)
    assert clips(results) == [[9, 10, 11, 12], [27, 28, 29, 30], [0, 1, 2, 3], [18, 19, 20, 21]]
    assert results['num_clips'] == 4


# training branches that are deterministic, worked by hand
TRAIN_GRID = [
    # share = (33 - 32 + 1) // 2 = 1 > 0: starts 0*1 + randint(1)=0 and 1*1 + 0 = 1
    (33, 8, 4, 2, [[4 * k for k in range(8)], [1 + 4 * k for k in range(8)]]),
    # share = 1 // 3 = 0 and 32 <= max(3, 32): starts around(k / 3) = 0, 0, 1
    (32, 8, 4, 3, [[4 * k for k in range(8)]] * 2 + [[1 + 4 * k for k in range(8)]]),
    # negative share: start 0, wrapped at 20
    (20, 8, 4, 1, [[0, 4, 8, 12, 16, 0, 4, 8]]),
]


@pytest.mark.parametrize('total,clip_len,interval,num_clips,expected', TRAIN_GRID)
def test_train_mode_deterministic_branches(total, clip_len, interval, num_clips, expected):
    sampler = SampleFrames(clip_len, interval, num_clips)
    for seed in range(5):
        np.random.seed(seed)
        assert clips(sample(sampler, total)) == expected


def test_train_mode_draws_every_start_of_the_share():
    # share = 100 - 32 + 1 = 69: the start is uniform on 0..68, frames 4 apart
    np.random.seed(0)
    sampler = SampleFrames(8, 4, 1)
    starts = set()
    for _ in range(3000):
        inds = sample(sampler, 100)['frame_inds']
        assert (np.diff(inds) == 4).all()
        starts.add(int(inds[0]))
    assert starts == set(range(69))


def test_train_mode_sorted_random_starts_when_clips_overlap():
    # share = 2 // 3 = 0 and 33 > max(3, 32): sorted draws from {0, 1}
    np.random.seed(0)
    seen = set()
    for _ in range(200):
        starts = [c[0] for c in clips(sample(SampleFrames(8, 4, 3), 33))]
        assert starts == sorted(starts) and set(starts) <= {0, 1}
        seen.update(starts)
    assert seen == {0, 1}


def test_keep_tail_frames_spreads_clips_over_float_shares():
    # share = (40 - 8 + 1) / 2 = 16.5: starts int(U(0, 16.5)) and int(16.5 + U(0, 16.5))
    np.random.seed(0)
    firsts, seconds = set(), set()
    for _ in range(2000):
        a, b = clips(sample(SampleFrames(8, 1, 2, keep_tail_frames=True), 40))
        firsts.add(a[0])
        seconds.add(b[0])
    assert firsts == set(range(17)) and seconds == set(range(16, 33))
    # shorter than a clip: start 0
    assert clips(sample(SampleFrames(8, 1, 1, keep_tail_frames=True), 5)) == \
        [[0, 1, 2, 3, 4, 0, 1, 2]]


def test_temporal_jitter_stays_within_the_interval():
    np.random.seed(0)
    for _ in range(100):
        inds = sample(SampleFrames(4, 5, 1, temporal_jitter=True), 100)['frame_inds']
        base = inds - 5 * np.arange(4)
        assert base.max() - base.min() <= 4


def test_sampler_follows_dataset_test_mode_unless_told():
    sampler = SampleFrames(8, 3, 2)
    expected = [[4, 7, 10, 13, 16, 19, 22, 25], [12, 15, 18, 21, 24, 27, 30, 33]]
    assert clips(sample(sampler, 40, test_mode=True)) == expected
    np.random.seed(0)
    draws = {tuple(sample(SampleFrames(8, 3, 2, test_mode=False), 40, test_mode=True)
                   ['frame_inds']) for _ in range(20)}
    assert len(draws) > 1  # an explicit test_mode=False keeps sampling at random


# ---------------------------------------------------------------- AIM's frame_uniform
def test_frame_uniform_test_mode_takes_segment_centres():
    # s = 39 / 8 = 4.875; starts round(4.875 i) = 0 5 10 15 20 24 29 34 (19.5 -> 20, half to
    # even), ends 5 10 15 20 24 29 34 39; centres (start + end) // 2
    sampler = SampleFrames(8, frame_uniform=True, test_mode=True)
    assert sample(sampler, 40)['frame_inds'].tolist() == [2, 7, 12, 17, 22, 26, 31, 36]


def test_frame_uniform_short_video_repeats_frames():
    # s = 4 / 8 = 0.5; starts 0 0 1 2 2 2 3 4, ends 0 1 2 2 2 3 4 4
    sampler = SampleFrames(8, frame_uniform=True, test_mode=True)
    assert sample(sampler, 5)['frame_inds'].tolist() == [0, 0, 1, 2, 2, 2, 3, 4]
    assert sample(sampler, 1)['frame_inds'].tolist() == [0] * 8


def test_frame_uniform_training_draws_inside_each_segment_ends_included():
    segments = [(0, 5), (5, 10), (10, 15), (15, 20), (20, 24), (24, 29), (29, 34), (34, 39)]
    np.random.seed(0)
    seen = [set() for _ in segments]
    for _ in range(1000):
        results = sample(SampleFrames(8, frame_uniform=True), 40)
        assert results['num_clips'] == 1
        for k, idx in enumerate(results['frame_inds']):
            seen[k].add(int(idx))
    assert seen == [set(range(a, b + 1)) for a, b in segments]


def test_frame_uniform_refuses_several_clips():
    with pytest.raises(ValueError, match='UniformSampleFrames'):
        SampleFrames(8, num_clips=3, frame_uniform=True)


# ---------------------------------------------------------------- other samplers
def test_uniform_sample_frames_test_mode():
    # shorter than the clip, 5 >= num_clips: starts 0*5//2 = 0 and 1*5//2 = 2, wrapped at 5
    results = sample(UniformSampleFrames(8, num_clips=2, test_mode=True), 5)
    assert clips(results) == [[0, 1, 2, 3, 4, 0, 1, 2], [2, 3, 4, 0, 1, 2, 3, 4]]
    # long video: one frame in each of [0,5) [5,10) ... [35,40); the same twice; global RNG
    # untouched
    np.random.seed(1)
    before = np.random.get_state()[1].copy()
    sampler = UniformSampleFrames(8, num_clips=1, test_mode=True)
    first = sample(sampler, 40)['frame_inds']
    assert [int(i) // 5 for i in first] == list(range(8))
    assert (sample(sampler, 40)['frame_inds'] == first).all()
    assert (np.random.get_state()[1] == before).all()
    # between clip_len and 2 * clip_len: every frame at most once, in order
    inds = sample(UniformSampleFrames(8, test_mode=True), 10)['frame_inds']
    assert len(set(inds.tolist())) == 8 and (np.diff(inds) > 0).all() and inds.max() <= 9


def test_dense_sample_frames():
    # test: positions = 1 + 100 - 32 = 69, step 32 // 2 = 16, window starts linspace(0, 68, 3)
    # = 0, 34, 68, each giving clips at +0 and +16
    results = sample(DenseSampleFrames(4, 1, 2, sample_range=32, num_sample_positions=3,
                                       test_mode=True), 100)
    assert [c[0] for c in clips(results)] == [0, 16, 34, 50, 68, 84]
    assert results['num_clips'] == 6
    np.random.seed(0)
    starts = {clips(sample(DenseSampleFrames(4, 1, 2, sample_range=32), 100))[0][0]
              for _ in range(2000)}
    assert starts == set(range(68))  # randint(0, 68)


def test_zero_frames_is_a_bad_video_not_a_crash():
    with pytest.raises(VideoDecodeError, match='0 frames'):
        sample(SampleFrames(8), 0, filename='empty.mp4')


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='clip_len'):
        SampleFrames(0)
    with pytest.raises(ValueError, match='out_of_bound_opt'):
        SampleFrames(8, out_of_bound_opt='clamp')
