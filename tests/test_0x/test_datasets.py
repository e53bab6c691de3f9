"""The datasets called with mmaction2 0.x's positional arguments (0.x's
``tests/test_data/test_datasets/test_rawframe_dataset.py``: ``RawframeDataset(ann_file,
pipeline, data_prefix)``), and the frame-template check."""
import os.path as osp

import pytest

from mmaction.datasets import DatasetArgumentError, RawframeDataset, VideoDataset
from mmaction.utils.cli import user_errors


def write(path, text):
    path.write_text(text)
    return str(path)


def test_rawframe_dataset_takes_0x_positional_order(tmp_path):
    ann = write(tmp_path / 'frames.txt', 'imgs 5 127\nimgs 5 127\n')
    prefix = str(tmp_path / 'data')
    dataset = RawframeDataset(ann, [], prefix)
    # 0.x's expected records: the prefix joined, the default template and start index
    assert [dataset.get_data_info(i)['frame_dir'] for i in range(2)] == \
        [osp.join(prefix, 'imgs')] * 2
    assert dataset.get_data_info(0)['total_frames'] == 5
    assert dataset.get_data_info(0)['label'] == 127
    assert dataset.filename_tmpl == 'img_{:05}.jpg' and dataset.start_index == 1
    # 4th: test_mode, 5th: filename_tmpl, 6th: with_offset, then multi_class, num_classes
    offsets = write(tmp_path / 'offsets.txt', 'imgs 2 5 127\n')
    full = RawframeDataset(offsets, [], prefix, True, '{:05d}.jpg', True, False, 400)
    assert full.test_mode and full.filename_tmpl == '{:05d}.jpg'
    assert full.get_data_info(0)['offset'] == 2 and full.num_classes == 400
    multi = write(tmp_path / 'multi.txt', 'imgs 5 1\nimgs 5 3 5\n')
    labels = RawframeDataset(multi, [], prefix, multi_class=True, num_classes=100)
    assert [labels.get_data_info(i)['label'] for i in range(2)] == [[1], [3, 5]]


def test_video_dataset_takes_0x_positional_order(tmp_path):
    # 0.x's VideoDataset(ann_file, pipeline, start_index=0, **kwargs)
    ann = write(tmp_path / 'videos.txt', 'a.mp4 3\n')
    dataset = VideoDataset(ann, [], 2, data_prefix='root')
    assert dataset.start_index == 2
    assert dataset.get_data_info(0)['filename'] == osp.join('root', 'a.mp4')


@pytest.mark.parametrize('template, message', [
    ('img.jpg', r"no \{\} field .* same file 'img.jpg'"),
    ('img_{{}}.jpg', r"no \{\} field .* same file 'img_\{\}.jpg'"),
    ('img_{name}.jpg', 'cannot be filled with a frame index'),
    ('img_{:05}_{}.jpg', 'cannot be filled with a frame index'),
    (5, 'must be a string'),
])
def test_a_template_without_a_frame_field_is_refused(tmp_path, template, message):
    ann = write(tmp_path / 'frames.txt', 'imgs 5 1\n')
    with pytest.raises(DatasetArgumentError, match=message):
        RawframeDataset(ann, [], filename_tmpl=template)
    assert issubclass(DatasetArgumentError, user_errors())  # a tool says it in one line
    # the 0.x mistake the check catches: a prefix passed where our old order put the template
    assert RawframeDataset(ann, [], str(tmp_path)).filename_tmpl == 'img_{:05}.jpg'
