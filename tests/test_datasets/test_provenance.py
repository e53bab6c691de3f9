"""Datasets record the list they read: its path, sha256, how many samples it lists and, for
evaluation data, how many of their videos exist."""
import hashlib

from mmaction.datasets import RawframeDataset, VideoDataset
from mmaction.structures import DATA_LIST_KEY


def _list(tmp_path, text):
    path = tmp_path / 'list.txt'
    path.write_text(text)
    return str(path), hashlib.sha256(text.encode()).hexdigest()


def test_evaluation_data_records_its_list_and_counts_the_videos_found(tmp_path, mmlog):
    for name in ('a.mp4', 'c.mp4'):
        (tmp_path / name).write_bytes(b'')  # exists; readable or not is the decoder's call
    ann, sha256 = _list(tmp_path, 'a.mp4 0\nb.mp4 1\n\nc.mp4 2\nd.mp4 0\n')
    dataset = VideoDataset(ann, [], data_prefix=str(tmp_path), test_mode=True)
    assert dataset.metainfo[DATA_LIST_KEY] == dict(ann_file=ann, sha256=sha256, listed=4,
                                                   found=2)
    assert f'2 of the 4 videos of {ann} (sha256 {sha256}; 4 listed, 2 found)' in mmlog.text
    assert str(tmp_path / 'b.mp4') in mmlog.text and str(tmp_path / 'd.mp4') in mmlog.text
    # a subset (indices) is evaluated; the list's counts stay those of the whole list
    subset = VideoDataset(ann, [], data_prefix=str(tmp_path), test_mode=True, indices=2)
    assert len(subset) == 2 and subset.metainfo[DATA_LIST_KEY]['listed'] == 4


def test_training_data_records_its_list_without_counting(tmp_path):
    ann, sha256 = _list(tmp_path, 'a.mp4 0\n')
    dataset = VideoDataset(ann, [], data_prefix=str(tmp_path))
    assert dataset.metainfo[DATA_LIST_KEY] == dict(ann_file=ann, sha256=sha256, listed=1,
                                                   found=None)


def test_frame_folders_are_counted_by_their_folder(tmp_path, frame_folder):
    ann, sha256 = _list(tmp_path, f'{frame_folder} 40 0\n{tmp_path}/nowhere 40 1\n')
    dataset = RawframeDataset(ann, [], filename_tmpl='img_{:05}.png', test_mode=True)
    assert dataset.metainfo[DATA_LIST_KEY] == dict(ann_file=ann, sha256=sha256, listed=2,
                                                   found=1)
