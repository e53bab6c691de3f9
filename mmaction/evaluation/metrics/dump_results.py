"""Write per-video test results to a file (``tools/test.py --out / --dump``)."""
import json
import os.path as osp
import pickle
from typing import List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmaction.registry import METRICS
from mmaction.structures import DATA_LIST_KEY, ActionDataSample
from mmaction.structures.data_list import describe, report
from mmaction.utils.fileio import write_bytes_atomic, write_text_atomic
from ..results import meta_path


def _numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, 'detach') else np.asarray(value)


def _label(value):
    """A class index, or the list of a multi-label video's labels (from its multi-hot row)."""
    label = _numpy(value).reshape(-1)
    if np.issubdtype(label.dtype, np.floating) and label.size > 1:
        return np.flatnonzero(label == 1).tolist()
    return int(label[0])


@METRICS.register_module()
class DumpResults(BaseMetric):
    """Collect every video's scores (each video once, in annotation order, also under DDP)
    and write them atomically to ``out_file`` (``.pkl``/``.pickle`` or ``.json``).

    Args:
        out_file: where to write.
        item_format: ``'scores'``: a list with one score array (num_classes,) per video, as
            mmaction2 0.x / AIM's ``tools/test.py --out`` wrote it (scripts that ensemble or
            re-evaluate these files keep working); a video that could not be decoded gets
            NaN scores so that positions still match the annotation file. ``'samples'``: a
            list of dicts ``{filename, gt_label, pred_label, pred_score, decode_failed
            [, error]}`` (``gt_label``: the class index, or the list of a multi-label
            video's labels).

    Beside ``out_file`` goes ``<out_file>.meta.json`` (the results file itself keeps the
    format the old tools read): ``results`` (the file's name), ``item_format``, ``data``
    (the annotation list the results are of, as the dataset recorded it: ``ann_file``,
    ``sha256``, ``listed``, ``found``, ``None`` where it did not; and ``evaluated``,
    ``unreadable`` counted here; :func:`mmaction.structures.data_list.report`) and
    ``unreadable_files`` (``filename``, ``error`` of each video that could not be decoded).
    """

    default_prefix = ''  # it writes a file and returns no metrics: nothing to prefix

    def __init__(self, out_file: str, item_format: str = 'scores', **kwargs):
        super().__init__(**kwargs)
        if not str(out_file).endswith(('.pkl', '.pickle', '.json')):
            raise ValueError(f'--out/--dump file must end with .pkl, .pickle or .json; got '
                             f'{out_file}')
        if item_format not in ('scores', 'samples'):
            raise ValueError(f"item_format must be 'scores' or 'samples', got {item_format!r}")
        self.out_file = out_file
        self.item_format = item_format

    @property
    def meta_file(self) -> str:
        """The provenance sidecar of :attr:`out_file`."""
        return meta_path(self.out_file)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score = _numpy(sample['pred_score']).astype(np.float32)
            item = dict(filename=ActionDataSample.filename.of(sample),
                        gt_label=_label(sample['gt_label']) if 'gt_label' in sample
                        else None,
                        pred_label=int(_numpy(sample['pred_label']).reshape(-1)[0])
                        if 'pred_label' in sample else int(score.reshape(-1, score.shape[-1])
                                                           .mean(0).argmax()),
                        pred_score=score,
                        decode_failed=bool(ActionDataSample.decode_failed.of(sample)))
            if item['decode_failed']:
                item['error'] = ActionDataSample.error.of(sample)
            self.results.append(item)

    def compute_metrics(self, results: List[dict]) -> dict:
        failed = [r['filename'] for r in results if r['decode_failed']]
        if self.item_format == 'scores':
            items = [np.full_like(r['pred_score'], np.nan) if r['decode_failed']
                     else r['pred_score'] for r in results]
        else:
            items = results
        if self.out_file.endswith('.json'):
            data = json.dumps(items, default=lambda a: a.tolist()).encode()
        else:
            data = pickle.dumps(items, protocol=4)
        write_bytes_atomic(self.out_file, data)
        data_list = (self.dataset_meta or {}).get(DATA_LIST_KEY)
        meta = dict(results=osp.basename(self.out_file), item_format=self.item_format,
                    data=report(data_list, len(results), len(failed)),
                    unreadable_files=[dict(filename=r['filename'], error=r['error'])
                                      for r in results if r['decode_failed']])
        write_text_atomic(self.meta_file, json.dumps(meta, indent=1) + '\n')
        logger = MMLogger.get_current_instance()
        logger.info(f'Wrote the {self.item_format} of {len(results)} videos of '
                    f'{describe(data_list)} to {osp.abspath(self.out_file)} (provenance: '
                    f'{osp.abspath(self.meta_file)})'
                    + (f'; {len(failed)} could not be decoded (NaN scores): {failed[:10]}'
                       if failed and self.item_format == 'scores' else ''))
        return {}
