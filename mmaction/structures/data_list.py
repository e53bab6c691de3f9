"""Which data a number came from: the annotation list a dataset was read from.

A dataset records it in its ``metainfo`` under :data:`DATA_LIST_KEY` when it reads the list;
mmengine's validation and test loops hand that metainfo to every metric as
``dataset_meta``, so the accuracy log line, ``tools/test.py``'s report and the ``--out`` /
``--dump`` files can say which list (path and sha256) they scored and how many of its videos
were there. Two copies of "the K400 validation set" with the same name but other contents
then show different hashes and counts next to their accuracies.
"""
from typing import Optional, TypedDict

#: key of a dataset's ``metainfo`` that holds its :class:`DataList`
DATA_LIST_KEY = 'data_list'


class DataList(TypedDict):
    """The annotation list of a dataset, as read when the dataset was built.

    ``listed`` counts every sample of the list (before any ``indices`` subset); ``found``
    those whose video file (or frame folder) exists, or ``None`` where it was not counted
    (training sets, whose lists can be ten times longer, and paths on remote storage).
    """
    ann_file: str
    sha256: str
    listed: int
    found: Optional[int]


def describe(data_list: Optional[DataList]) -> str:
    """``LIST (sha256 HASH; N listed, M found)``, or a sentence saying it is unknown."""
    if not data_list:
        return 'an annotation list that the dataset did not record'
    found = 'not counted' if data_list['found'] is None else data_list['found']
    return (f"{data_list['ann_file']} (sha256 {data_list['sha256']}; {data_list['listed']} "
            f'listed, {found} found)')


def report(data_list: Optional[DataList], evaluated: int, unreadable: int) -> dict:
    """What a metric's results (key ``data``) and the ``--out`` sidecar record: the
    :class:`DataList` fields (``None`` where the dataset recorded none), ``evaluated`` (the
    videos the metric received, each once) and ``unreadable`` (of those, the ones that could
    not be decoded and were left out)."""
    data_list = data_list or {}
    return dict(ann_file=data_list.get('ann_file'), sha256=data_list.get('sha256'),
                listed=data_list.get('listed'), found=data_list.get('found'),
                evaluated=evaluated, unreadable=unreadable)
