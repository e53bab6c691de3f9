"""Results files as tools/test.py writes them, for the tests of the tools that read them:
through :class:`DumpResults` (the ``--out``/``--dump`` writer ``build_test_config`` puts in
the test evaluator), with the provenance of a dataset that read the list."""
import numpy as np
import torch

from mmaction.registry import DATASETS, METRICS
from mmaction.structures import DATA_LIST_KEY
from mmaction.utils import register_all_modules

TINY = 'configs/recognition/vit/vitclip_tiny_synthetic.py'


def write_list(path, labels, names=None):
    """An annotation list ``name label`` per line; returns its path as a string."""
    names = names or [f'v{i}.mp4' for i in range(len(labels))]
    path.write_text(''.join(f'{n} {label}\n' for n, label in zip(names, labels)))
    return str(path)


def write_results(out, ann_file, scores, failed=(), item_format='scores', names=None):
    """What ``tools/test.py --out OUT`` (``item_format='samples'``: ``--dump``) writes after a
    test on ``ann_file`` whose model gave ``scores`` (one (K,) or (views, K) array per
    video); the videos at the positions ``failed`` could not be decoded."""
    register_all_modules()
    dataset = DATASETS.build(dict(type='VideoDataset', ann_file=ann_file, pipeline=[],
                                  test_mode=True, serialize_data=False))  # no gc.collect()
    writer = METRICS.build(dict(type='DumpResults', out_file=str(out),
                                item_format=item_format))
    writer.dataset_meta = dataset.metainfo
    samples = []
    for i, score in enumerate(scores):
        info = dataset.get_data_info(i)
        name = names[i] if names else info['filename']
        sample = dict(pred_score=torch.as_tensor(np.asarray(score, dtype=np.float32)),
                      gt_label=torch.tensor([info['label']]), filename=name)
        if i in failed:
            sample.update(decode_failed=True, error='moov atom not found')
        samples.append(sample)
    writer.process({}, samples)
    writer.compute_metrics(writer.results)
    assert DATA_LIST_KEY in dataset.metainfo
    return str(out)
