"""Pipeline steps' argument checks as mmaction2 0.x makes them (0.x's
``tests/test_data/test_pipelines/test_augmentations/test_crop.py::test_multi_group_crop``,
``test_loadings/test_decode.py::test_rawframe_selector``)."""
import warnings

import numpy as np
import pytest

from mmaction.datasets.transforms import FrameSelector, MultiGroupCrop


@pytest.mark.parametrize('crop_size, groups', [
    (0.5, 1), ('224', 1), ([224, 224], 1), ((224, 22.4), 1), (True, 1), (224, '1'),
])
def test_multi_group_crop_refuses_what_is_not_an_int_or_a_tuple_of_ints(crop_size, groups):
    with pytest.raises(TypeError, match='MultiGroupCrop'):
        MultiGroupCrop(crop_size, groups)


def test_multi_group_crop_accepts_ints_and_tuples():
    with pytest.raises(ValueError, match='positive'):
        MultiGroupCrop(224, 0)
    assert MultiGroupCrop(224, 3).crop_size == (224, 224)
    assert MultiGroupCrop((32, 24), np.int64(2)).crop_size == (32, 24)
    out = MultiGroupCrop(8, 2)(dict(imgs=np.zeros((3, 10, 12, 3), np.uint8)))
    assert out['imgs'].shape == (6, 8, 8, 3) and out['img_shape'] == (8, 8)


def test_frame_selector_warns_with_a_user_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        FrameSelector(io_backend='disk')
    assert [w.category for w in caught] == [UserWarning]
    assert 'RawFrameDecode' in str(caught[0].message)
