"""The built-in benchmark's steps, shared by ``tools/quickstart.py`` and
``tools/analysis/ablation.py``: make the data and the image model, then train and test with
the same ``tools/train.py`` / ``tools/test.py`` commands a user runs on Kinetics.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmaction.utils.fileio import write_text_atomic

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'recognition', 'vit', 'vitclip_tiny_synthetic.py')
TOWER_FILE = 'tiny_clip.pt'


def _same_args(path: str, args: dict) -> bool:
    if not osp.isfile(path):
        return False
    with open(path) as f:
        saved = json.load(f)
    return all(saved.get(k) == v for k, v in args.items())


def prepare(root: str, num_train: int = 2000, num_val: int = 200, size: int = 64,
            num_frames: int = 16, num_lanes: int = 1, seed: int = 0,
            pretrain_iters: int = 1500, workers: int = 2, fresh: bool = False,
            log=print) -> Dict[str, str]:
    """Generate the videos and pretrain the image model under ``root``, unless files made
    with the same arguments are already there (``fresh=True`` remakes them)."""
    from mmaction.synthetic.tiny_clip import pretrain_tiny_clip
    from mmaction.synthetic.videos import generate_dataset
    data_args = dict(num_train=num_train, num_val=num_val, size=size, num_frames=num_frames,
                     num_lanes=num_lanes, seed=seed)
    paths = dict(videos=osp.join(root, 'videos'), train=osp.join(root, 'train.txt'),
                 val=osp.join(root, 'val.txt'), label_map=osp.join(root, 'label_map.txt'),
                 tower=osp.join(root, TOWER_FILE))
    if not fresh and _same_args(osp.join(root, 'meta.json'), data_args):
        log(f'videos: reusing {root} (same generation arguments)')
    else:
        log(f'videos: writing {num_train} + {num_val} clips to {root}')
        generate_dataset(root, workers=workers, progress=True, **data_args)
    tower_args = dict(iters=pretrain_iters, seed=seed, data=data_args)
    sidecar = paths['tower'] + '.json'
    if not fresh and osp.isfile(paths['tower']) and _same_args(sidecar, tower_args):
        log(f'image model: reusing {paths["tower"]}')
    else:
        log(f'image model: pretraining on single frames ({pretrain_iters} iterations)')
        stats = pretrain_tiny_clip(paths['tower'], iters=pretrain_iters, seed=seed,
                                   log_every=max(pretrain_iters // 10, 1))
        write_text_atomic(sidecar, json.dumps(dict(
            tower_args, **{k: v for k, v in stats.items() if k not in ('tower', 'history')})))
    return paths


def data_options(paths: Dict[str, str]) -> Dict[str, str]:
    """``--cfg-options`` pointing the synthetic config at ``paths``."""
    opts = {'model.backbone.pretrained': paths['tower']}
    for split, ann in (('train', paths['train']), ('val', paths['val']), ('test', paths['val'])):
        opts[f'data.{split}.ann_file'] = ann
        opts[f'data.{split}.data_prefix'] = paths['videos']
    return opts


def _cfg_args(options: Dict[str, object]) -> List[str]:
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()] if options else []


# lines of tools/train.py and tools/test.py worth showing while they run (all go to the log)
PROGRESS_MARKS = ('Epoch(', 'Tunable parameters', 'Accuracy over', 'Error', 'Traceback')


def _run(cmd: Sequence[str], log_file: Optional[str], echo, show_progress: bool) -> float:
    """Run ``cmd`` from the repository root, its output into ``log_file`` (if given);
    with ``show_progress``, the lines carrying losses, metrics and ETA are echoed too."""
    echo('$ ' + ' '.join(cmd))
    start = time.time()
    if log_file is None:
        returncode = subprocess.run(cmd, cwd=REPO).returncode
    else:
        with open(log_file, 'w') as log, subprocess.Popen(
                cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                bufsize=1) as proc:
            for line in proc.stdout:
                log.write(line)
                if show_progress and any(mark in line for mark in PROGRESS_MARKS):
                    echo(line.rstrip().rsplit('\r', 1)[-1])
            returncode = proc.wait()
    if returncode:
        where = ''
        if log_file:
            with open(log_file) as f:
                tail = ''.join(f.readlines()[-25:])
            where = f'; the end of its output ({log_file}):\n{tail}'
        raise RuntimeError(f'command failed with exit code {returncode}: '
                           + ' '.join(cmd) + where)
    return time.time() - start


def train(config: str, work_dir: str, options: Dict[str, object], seed: int = 0,
          log_file: Optional[str] = None, echo=print, show_progress: bool = False) -> float:
    """``tools/train.py CONFIG --validate`` into ``work_dir``; returns the seconds it took."""
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config, '--validate',
           '--work-dir', work_dir, '--seed', str(seed)] + _cfg_args(options)
    return _run(cmd, log_file, echo, show_progress)


def test(config: str, checkpoint: str, work_dir: str, options: Dict[str, object],
         log_file: Optional[str] = None, echo=print, show_progress: bool = False) -> dict:
    """``tools/test.py`` with the config's multi-view test pipeline; returns its metrics
    (computed from the ``--dump`` file it writes) and the file's path."""
    from mmaction.evaluation.metrics.acc_metric import mean_class_accuracy, top_k_accuracy
    dump = osp.join(work_dir, 'test_results.json')
    cmd = [sys.executable, osp.join(REPO, 'tools', 'test.py'), config, checkpoint, '--eval',
           'top_k_accuracy', 'mean_class_accuracy', '--dump', dump, '--work-dir',
           work_dir] + _cfg_args(options)
    seconds = _run(cmd, log_file, echo, show_progress)
    with open(dump) as f:
        records = [r for r in json.load(f) if not r.get('decode_failed')]
    scores = np.array([r['pred_score'] for r in records])
    labels = np.array([r['gt_label'] for r in records])
    top1, top5 = top_k_accuracy(scores, labels, (1, 5))
    return dict(top1_acc=top1, top5_acc=top5, mean_class_accuracy=mean_class_accuracy(
        scores, labels), num_videos=len(records), seconds=seconds, dump=dump)


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint ``tools/train.py`` recorded as its latest."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        path = f.read().strip()
    return path if osp.isabs(path) else osp.join(work_dir, path)


def scalars_file(work_dir: str) -> str:
    """The JSON-lines scalar log of the newest run in ``work_dir``."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json')))
    if not runs:
        raise FileNotFoundError(f'no <timestamp>/vis_data/scalars.json under {work_dir}')
    return osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')


def parameter_counts(config: str, options: Dict[str, object]) -> Dict[str, int]:
    """Total and trainable parameters of the config's model (built on the meta device)."""
    import torch
    from mmengine.config import Config

    from mmaction.engine.config_checks import apply_cfg_options
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmaction.utils.complexity import count_parameters
    register_all_modules()
    cfg = Config.fromfile(config)
    apply_cfg_options(cfg, dict(options))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    total, trainable = count_parameters(model)
    return dict(total=total, trainable=trainable)
