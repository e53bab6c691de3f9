"""Counting the training samples that stood in for unreadable videos."""
import math
from typing import List, Optional

import torch
from mmengine.dist import all_gather_object, all_reduce
from mmengine.hooks import Hook

from mmaction.registry import HOOKS
from mmaction.structures import ActionDataSample
from ..resume import resumed_batches


def _find_attr(dataset, name: str, default):
    """``dataset.name``, looking through dataset wrappers (RepeatDataset ...)."""
    while not hasattr(dataset, name) and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return getattr(dataset, name, default)


@HOOKS.register_module()
class BadVideoHook(Hook):
    """Report and bound the substitutions of unreadable training videos.

    The datasets replace an unreadable training video by another sample and record, in that
    sample's metainfo ``substitutions``, every file that failed on the way (the video itself,
    and any substitute that failed too). The record reaches the main process with the batch,
    whatever the number of data-loader workers. Per epoch (an epoch's worth of samples, the
    length of this process's sampler, so iteration-based loops are counted the same way) this
    hook counts

    - ``substituted``: samples that stand in for an unreadable video (one per visit of a bad
      annotation entry), which is what ``max_bad_fraction`` bounds;
    - ``bad_files``: the ``{'filename', 'error'}`` records of every failed read;
    - ``fallbacks``: the ``{'filename', 'error'}`` records of samples decord could not decode
      and PyAV did (metainfo ``decoder_fallback``): not unreadable, so never substituted nor
      counted against the ceiling, but reported apart;

    warns once per bad file and once per file decoded by PyAV instead of decord (per process,
    the first ``max_warnings`` files one by one), stops the run as soon as this process has
    substituted more than ``max_bad_fraction`` of its share of the epoch, and logs the counts
    when the epoch's worth is complete (summed over processes).

    Args:
        max_bad_fraction: the ceiling; ``None`` takes the train dataset's
            ``max_bad_fraction`` (0.01 by default).
        max_listed: how many files the messages list.
        max_warnings: how many bad files are warned about one by one.
    """

    priority = 'NORMAL'
    always_on = True  # every run has it, unless custom_hooks lists it with its own settings

    def __init__(self, max_bad_fraction: Optional[float] = None, max_listed: int = 10,
                 max_warnings: int = 20):
        if max_bad_fraction is not None and not 0 <= max_bad_fraction <= 1:
            raise ValueError(f'max_bad_fraction must be in [0, 1], got {max_bad_fraction}')
        self.max_bad_fraction = max_bad_fraction
        self.max_listed = max_listed
        self.max_warnings = max_warnings
        self.warned: set = set()  # files warned about, for the whole run
        self.fraction, self.share, self.limit = 0.0, 1, 0
        self.seen = self.substituted = 0
        self.bad_files: List[dict] = []
        self.fallbacks: List[dict] = []
        self.warned_fallbacks: set = set()
        #: one entry per reported epoch: epoch, iter, substituted (all processes), files
        #: (the distinct bad files this process saw)
        self.history: List[dict] = []
        self._resumed: Optional[dict] = None  # counts of a checkpoint written mid-epoch

    def before_train_epoch(self, runner) -> None:
        loader = runner.train_dataloader
        fraction = self.max_bad_fraction
        if fraction is None:
            fraction = _find_attr(loader.dataset, 'max_bad_fraction', 0.01)
        try:
            share = len(loader.sampler)  # this process's samples per epoch
        except TypeError:
            share = len(loader.dataset)
        self.fraction, self.share = fraction, max(share, 1)
        self.limit = math.floor(fraction * self.share)
        self._reset()
        resumed, self._resumed = self._resumed, None
        if resumed and resumed_batches(runner):  # counts of the epoch's first part
            self.seen, self.substituted = resumed['seen'], resumed['substituted']
            self.bad_files = list(resumed['bad_files'])
            self.fallbacks = list(resumed.get('fallbacks', []))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['bad_videos'] = dict(
            seen=self.seen, substituted=self.substituted, bad_files=list(self.bad_files),
            fallbacks=list(self.fallbacks))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._resumed = (checkpoint.get('meta') or {}).get('bad_videos')

    def _reset(self) -> None:
        self.seen = 0
        self.substituted = 0
        self.bad_files = []
        self.fallbacks = []

    def _listing(self, records: List[dict]) -> str:
        lines = [f"{r['filename']}: {r['error']}" for r in records[:self.max_listed]]
        more = len(records) - self.max_listed
        return '\n  '.join(lines) + (f'\n  ... and {more} more' if more > 0 else '')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        samples = (data_batch or {}).get('data_samples', ())
        for sample in samples:
            fallback = ActionDataSample.decoder_fallback.of(sample)
            if fallback:
                self.fallbacks.append(fallback)
                self._warn_fallback(runner, fallback)
            records = ActionDataSample.substitutions.of(sample)
            if records:
                self.substituted += 1
                self.bad_files.extend(records)
                for record in records:
                    self._warn(runner, record)
        if self.substituted > self.limit:
            raise RuntimeError(
                f'{self.substituted} training samples of this epoch stood in for unreadable '
                f'videos, more than max_bad_fraction={self.fraction} of the {self.share} '
                'samples this process trains on per epoch. Fix or drop the files '
                '(tools/analysis/check_videos.py writes a cleaned annotation file), or raise '
                f'data.train.max_bad_fraction. First ones:\n  {self._listing(self.bad_files)}')
        self.seen += len(samples)
        if self.seen >= self.share:  # an epoch's worth, also under iteration-based loops
            self._report(runner)

    def _warn(self, runner, record: dict) -> None:
        name = record['filename']
        if name in self.warned or len(self.warned) > self.max_warnings:
            return
        self.warned.add(name)
        if len(self.warned) > self.max_warnings:
            runner.logger.warning(
                f'More than {self.max_warnings} unreadable videos in this process; the next '
                'ones are not logged one by one (they are still counted and reported at the '
                'end of the epoch).')
            return
        runner.logger.warning(f"Unreadable video {name}: {record['error']}. Training uses "
                              'another sample in its place (counted and reported at the end '
                              'of the epoch).')

    def _warn_fallback(self, runner, record: dict) -> None:
        name = record['filename']
        if name in self.warned_fallbacks or len(self.warned_fallbacks) >= self.max_warnings:
            return
        self.warned_fallbacks.add(name)
        runner.logger.warning(f"decord cannot decode {name} ({record['error']}); PyAV decodes "
                              'it instead, with the same pixels. It trains as it is and is '
                              'counted apart from unreadable videos.')

    def after_train_epoch(self, runner) -> None:
        if self.seen:  # what the epoch ended with short of a full share (drop_last ...)
            self._report(runner)

    def _report(self, runner) -> None:
        """Log the window's substitutions (summed over processes) and start a new window.
        Every process calls this at the same iteration (same sampler length and batch
        size), as the collective operations need."""
        count = torch.tensor([self.substituted, len(self.fallbacks)])
        all_reduce(count)
        count, fallbacks = count.tolist()
        if fallbacks:
            files = sorted({r['filename'] for r in self.fallbacks})
            shown = '\n  '.join(files[:self.max_listed]) + (
                f'\n  ... and {len(files) - self.max_listed} more'
                if len(files) > self.max_listed else '')
            runner.logger.warning(
                f'Epoch {runner.epoch + 1} (up to iteration {runner.iter + 1}): {fallbacks} '
                'training samples were decoded with PyAV because decord could not decode '
                f'them ({len(files)} distinct files seen by this process; not unreadable, '
                f'not substituted):\n  {shown}')
        if int(count):
            listed = [r for part in all_gather_object(self.bad_files[:self.max_listed])
                      for r in part]
            files = sorted({r['filename'] for r in self.bad_files})
            runner.logger.warning(
                f'Epoch {runner.epoch + 1} (up to iteration {runner.iter + 1}): {int(count)} '
                'training samples stood in for unreadable videos '
                f'({len(files)} distinct bad files seen by this process):\n  '
                f'{self._listing(listed)}')
            self.history.append(dict(epoch=runner.epoch + 1, iter=runner.iter + 1,
                                     substituted=int(count), files=files,
                                     fallbacks=fallbacks))
        elif fallbacks:
            self.history.append(dict(epoch=runner.epoch + 1, iter=runner.iter + 1,
                                     substituted=0, files=[], fallbacks=fallbacks))
        self._reset()
