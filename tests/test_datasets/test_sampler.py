"""SeededSampler: mmengine's order, a seed per position, a start part-way into an epoch; and
the dataset's use of those seeds."""
import os.path as osp
import pickle

import mmengine.dataset.sampler as mmengine_sampler
import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler, pseudo_collate

from mmaction.datasets import SeededIndex, SeededSampler, VideoDataset
from mmaction.utils.randomness import derive_seed


def _pairs(indices):
    return [(int(i), i.seed) for i in indices]


def _sampler(monkeypatch, length=11, rank=0, world_size=1, epoch=3, **kwargs):
    monkeypatch.setattr(mmengine_sampler, 'get_dist_info', lambda: (rank, world_size))
    sampler = SeededSampler(list(range(length)), seed=5, **kwargs)
    sampler.set_epoch(epoch)
    return sampler


def test_indices_are_mmengines_and_seeds_follow_the_position(monkeypatch):
    sampler = _sampler(monkeypatch)
    reference = DefaultSampler(list(range(11)), seed=5)
    reference.set_epoch(3)
    pairs = list(sampler)
    assert all(type(p) is SeededIndex for p in pairs)
    assert [p.index for p in pairs] == list(reference)
    assert [p.seed for p in pairs] == [derive_seed(5, 3, position) for position in range(11)]
    sampler.set_epoch(4)
    assert [p.seed for p in sampler] != [p.seed for p in pairs]  # a new epoch, new seeds
    assert pickle.loads(pickle.dumps(pairs[0])).seed == pairs[0].seed  # to workers and back


def test_each_rank_gets_its_positions_with_the_single_process_seeds(monkeypatch):
    single = _pairs(_sampler(monkeypatch))
    # mmengine pads the order to a multiple of the world size by repeating its start; the
    # repeat has a position of its own, so it is augmented differently
    single.append((single[0][0], derive_seed(5, 3, 11)))
    for rank in (0, 1):
        mine = _pairs(_sampler(monkeypatch, rank=rank, world_size=2))
        assert mine == single[rank::2]



def test_one_process_accumulating_sees_the_updates_of_several(monkeypatch):
    """4 processes x 2 videos per step, or 1 process x 2 videos x update_interval 4: every
    update gets the same videos with the same augmentation seeds."""
    length, batch, world = 16, 2, 4
    single = _pairs(_sampler(monkeypatch, length=length))
    ranks = [_pairs(_sampler(monkeypatch, length=length, rank=r, world_size=world))
             for r in range(world)]
    for step in range(length // (batch * world)):
        together = {p for rank in ranks for p in rank[step * batch:(step + 1) * batch]}
        window = set(single[step * batch * world:(step + 1) * batch * world])
        assert together == window


def test_skip_starts_the_next_epoch_part_way_once(monkeypatch):
    sampler = _sampler(monkeypatch)
    full = _pairs(sampler)
    sampler.skip(4)
    assert _pairs(sampler) == full[4:]
    assert _pairs(sampler) == full  # only the resumed epoch is shortened
    with pytest.raises(ValueError, match='cannot skip 12 of the 11'):
        sampler.skip(12)


RANDOM_PIPELINE = [
    dict(type='PyAVInit'), dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
    dict(type='PyAVDecode'), dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False), dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]


def _dataset(videos, tmp_path, num_samples):
    ann = tmp_path / 'list.txt'
    ann.write_text(''.join(f'h264.mp4 {i % 2}\n' for i in range(num_samples)))
    return VideoDataset(str(ann), RANDOM_PIPELINE, data_prefix=osp.dirname(videos['h264']))


def test_a_seeded_index_fixes_the_augmentation(videos, tmp_path):
    dataset = _dataset(videos, tmp_path, 1)
    first = dataset[SeededIndex(0, 123)]['inputs']
    np.random.seed(0)  # whatever the generator did before
    again = dataset[SeededIndex(0, 123)]['inputs']
    other = dataset[SeededIndex(0, 124)]['inputs']
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_augmentations_do_not_depend_on_the_number_of_workers(videos, tmp_path, monkeypatch):
    dataset = _dataset(videos, tmp_path, 6)
    batches = {}
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=2, num_workers=workers, collate_fn=pseudo_collate,
            sampler=_sampler(monkeypatch, length=len(dataset)))
        batches[workers] = [torch.stack(b['inputs']) for b in loader]
    assert len(batches[0]) == 3
    for a, b in zip(batches[0], batches[2]):
        assert torch.equal(a, b)


def test_dataset_wrappers_take_the_index_as_an_int(videos, tmp_path):
    from mmengine.dataset import RepeatDataset
    repeated = RepeatDataset(_dataset(videos, tmp_path, 2), times=3)
    assert repeated[SeededIndex(5, 1)]['data_samples'].gt_label.tolist() == [1]
