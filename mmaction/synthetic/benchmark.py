"""The built-in benchmark's steps, shared by ``tools/quickstart.py`` and
``tools/analysis/ablation.py``: make the data and the image model, then train and test in
this process with the functions ``tools/train.py`` and ``tools/test.py`` run
(:mod:`mmaction.engine.commands`), given the command lines a user types on Kinetics.
"""
import contextlib
import gc
import io
import json
import logging
import os
import os.path as osp
import random
import sys
import time
import traceback
from typing import Dict, List, Optional

import numpy as np

from mmaction.utils.fileio import write_text_atomic

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
    from mmaction.utils.threads import apply_thread_policy
    log(apply_thread_policy(workers=0))  # the pretraining runs here, in this process
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


# lines of the training and test output worth showing while they run (all go to the log)
PROGRESS_MARKS = ('Epoch(', 'Tunable parameters', 'Accuracy over', 'Error', 'Traceback')


class _Output(io.TextIOBase):
    """A run's stdout and stderr: all of it into the log file (written through, so that a
    data-loader worker forked meanwhile inherits no buffered text); with ``show_progress``
    the lines carrying losses, metrics and ETA are echoed to the console too."""

    def __init__(self, log, console, echo, show_progress: bool):
        self.log, self.console, self.echo = log, console, echo
        self.show_progress = show_progress
        self._line = ''

    @property
    def encoding(self) -> str:
        return self.log.encoding

    def fileno(self) -> int:  # output written below Python lands in the log too
        return self.log.fileno()

    def write(self, text: str) -> int:
        self.log.write(text)
        self.log.flush()
        if self.show_progress:
            *lines, self._line = (self._line + text).split('\n')
            for line in lines:
                if any(mark in line for mark in PROGRESS_MARKS):
                    with contextlib.redirect_stdout(self.console):
                        self.echo(line.rstrip().rsplit('\r', 1)[-1])
        return len(text)

    def flush(self) -> None:
        self.log.flush()


@contextlib.contextmanager
def _output_into(log_file: Optional[str], echo, show_progress: bool):
    """The run's output into ``log_file`` (if given). On an error its traceback goes there
    too, and the end of the file is echoed before the error propagates."""
    if log_file is None:
        yield
        return
    try:
        with open(log_file, 'w') as log:
            out = _Output(log, sys.stdout, echo, show_progress)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                try:
                    yield
                except BaseException:
                    traceback.print_exc()
                    raise
    except BaseException:
        with open(log_file) as f:
            tail = ''.join(f.readlines()[-25:])
        echo(f'failed; the end of its output ({log_file}):\n{tail}')
        raise


def _named_instance_classes() -> list:
    """mmengine's classes of named global instances (loggers, message hubs, visualizers,
    default scopes ...), each with its own registry of instances."""
    from mmengine.utils import ManagerMixin
    found, todo = [], [ManagerMixin]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


_last_end = ''  # the second the previous run in this process ended in


@contextlib.contextmanager
def _own_process_state():
    """What a process of its own gives a run, and taking back what the run leaves behind.

    * Its own timestamp: mmengine names the run's log folder, logger, message hub and
      visualizer after the second the runner starts, and hands back the existing instance
      for a name it has seen; so the run starts in a later second than the last one ended.
    * Afterwards, the named instances it created are dropped (mmengine keeps them in each
      class's ``_instance_dict``, the newest being the "current" one) and their log files
      closed, so that the caller's current logger, message hub and default scope are its own
      again; and the state of ``random``, ``numpy`` and ``torch`` (which the runner seeds) is
      put back. (The run ends its data-loader workers itself.)
    """
    global _last_end
    import torch
    while time.strftime('%Y%m%d_%H%M%S') == _last_end:
        time.sleep(0.05)
    before = {cls: set(cls._instance_dict) for cls in _named_instance_classes()}
    rng = random.getstate(), np.random.get_state(), torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        for cls in _named_instance_classes():
            for name in set(cls._instance_dict) - before.get(cls, set()):
                instance = cls._instance_dict.pop(name)
                for handler in list(getattr(instance, 'handlers', ())):
                    if isinstance(handler, logging.FileHandler):
                        instance.removeHandler(handler)
                        handler.close()
        random.setstate(rng[0])
        np.random.set_state(rng[1])
        torch.set_rng_state(rng[2])
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
        gc.collect()  # the runner is a reference cycle: free it (the model ...) before the next
        _last_end = time.strftime('%Y%m%d_%H%M%S')


def _run(command: str, argv: List[str], log_file: Optional[str], echo,
         show_progress: bool) -> float:
    """Do the work of ``python tools/{command}.py ARGV`` in this process, its output into
    ``log_file`` (if given); returns the seconds it took. Errors propagate as raised."""
    from mmengine.logging import MMLogger

    from mmaction.engine import commands
    parse, run = ((commands.parse_train_args, commands.train) if command == 'train' else
                  (commands.parse_test_args, commands.test))
    echo(f'$ python tools/{command}.py ' + ' '.join(argv))
    start = time.time()
    with _own_process_state(), _output_into(log_file, echo, show_progress):
        # a new process logs through mmengine's default logger until the runner has its own
        MMLogger.get_instance(f'synthetic_benchmark_{time.time_ns()}')
        run(parse(argv))
    return time.time() - start


def train(config: str, work_dir: str, options: Dict[str, object], seed: int = 0,
          log_file: Optional[str] = None, echo=print, show_progress: bool = False) -> float:
    """``tools/train.py CONFIG --validate`` into ``work_dir``; returns the seconds it took."""
    argv = [config, '--validate', '--work-dir', work_dir, '--seed', str(seed)] + \
        _cfg_args(options)
    return _run('train', argv, log_file, echo, show_progress)


def test(config: str, checkpoint: str, work_dir: str, options: Dict[str, object],
         log_file: Optional[str] = None, echo=print, show_progress: bool = False) -> dict:
    """``tools/test.py`` with the config's multi-view test pipeline; returns its metrics
    (computed from the ``--dump`` file it writes), the file's path and the seconds taken."""
    from mmaction.evaluation.metrics.acc_metric import mean_class_accuracy, top_k_accuracy
    dump = osp.join(work_dir, 'test_results.json')
    argv = [config, checkpoint, '--eval', 'top_k_accuracy', 'mean_class_accuracy', '--dump',
            dump, '--work-dir', work_dir] + _cfg_args(options)
    seconds = _run('test', argv, log_file, echo, show_progress)
    with open(dump) as f:
        records = [r for r in json.load(f) if not r.get('decode_failed')]
    scores = np.array([r['pred_score'] for r in records])
    labels = np.array([r['gt_label'] for r in records])
    top1, top5 = top_k_accuracy(scores, labels, (1, 5))
    return dict(top1_acc=top1, top5_acc=top5, mean_class_accuracy=mean_class_accuracy(
        scores, labels), num_videos=len(records), seconds=seconds, dump=dump)


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint ``tools/train.py`` recorded as its latest (``FileNotFoundError`` when
    ``work_dir`` holds none)."""
    from mmaction.checkpoint import find_latest_checkpoint
    path = find_latest_checkpoint(work_dir)
    if path is None:
        raise FileNotFoundError(f'{work_dir} holds no checkpoint (no last_checkpoint, '
                                'epoch_N.pth or iter_N.pth)')
    return path


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

    from mmaction.engine.config import load_config
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmaction.utils.complexity import count_parameters
    register_all_modules()
    cfg = load_config(config, dict(options))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    total, trainable = count_parameters(model)
    return dict(total=total, trainable=trainable)
