"""Clip features for other tasks: for each video of a list, what a recognizer's classifier
receives (the backbone's output pooled by the head), written to one file per video.

    model = init_recognizer(CONFIG, CHECKPOINT, device='cuda:0')
    feats = video_features(model, 'a.mp4')          # (views, C) float32
    videos = read_video_list('videos.txt', video_root='data/kinetics400/videos_val')
    summary = extract_features(model, videos, 'features/', settings={...})

The views are those the config's test pipeline makes (``num_clips`` x crops; crop-major,
view ``crop * num_clips + clip``, as ``FormatShape`` orders them). Files, written atomically
(:mod:`mmaction.utils.fileio`), are ``.npy`` float32 arrays (views, C), or (C,) averaged
over the views; ``manifest.json`` beside them says which (docs/features_export.md). A video
whose file exists is skipped, so an interrupted run continues where it stopped. Under DDP,
rank ``r`` of ``W`` takes the videos at list positions ``r, r + W, ...``.
"""
import json
import os.path as osp
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar
from torch import nn
from torch.utils.data import DataLoader, Dataset

from mmaction.utils.cli import user_error
from mmaction.utils.fileio import atomic_write, write_text_atomic
from .inference import build_test_input

#: ``manifest.json``'s ``format``: bump it when the layout changes
FEATURES_FORMAT = 'aim-mmaction/clip-features/1'
MANIFEST = 'manifest.json'
_SHOWN = 5  # problems of a list named in one message


@user_error
class FeatureExtractionError(ValueError):
    """A video list, a video or an output folder that feature extraction cannot use; the
    message says which line or file, and the fix."""


@dataclass(frozen=True)
class VideoEntry:
    """One video of a list: ``listed`` as the list writes it, ``path`` the file read,
    ``file`` its feature file relative to the output folder."""
    listed: str
    path: str
    file: str


def _is_int(token: str) -> bool:
    try:
        int(token)
    except ValueError:
        return False
    return True


def _problems(what: str, problems: List[str], fix: str) -> FeatureExtractionError:
    shown = '; '.join(problems[:_SHOWN])
    more = f' (and {len(problems) - _SHOWN} more)' if len(problems) > _SHOWN else ''
    return FeatureExtractionError(f'{len(problems)} {what}: {shown}{more}. {fix}')


def read_video_list(list_file: str, video_root: Optional[str] = None) -> List[VideoEntry]:
    """The videos of ``list_file``: one per line, a path relative to ``video_root`` (or as
    written when it is ``None`` or the path is absolute). A line ``path label ...`` (an
    annotation list, numbers after the path) names ``path``; blank lines are skipped.

    The feature file of ``a/b.mp4`` is ``a/b.npy`` (of ``/abs/a.mp4``: ``abs/a.npy``).
    Every video must exist, no two may share a feature file and none may lie above the
    root; otherwise one :class:`FeatureExtractionError` lists the lines."""
    if not osp.isfile(list_file):
        raise FileNotFoundError(f'video list {list_file} does not exist (expected a text file '
                                'with one video path per line)')
    if video_root is not None and not osp.isdir(video_root):
        raise FileNotFoundError(f'--video-root {video_root} is not a folder (the folder the '
                                "list's paths are relative to)")
    entries, missing, clashes, outside, files = [], [], [], [], {}
    with open(list_file) as f:
        for lineno, line in enumerate(f, 1):
            text = line.strip()
            if not text:
                continue
            tokens = text.split()
            listed = tokens[0] if len(tokens) > 1 and all(map(_is_int, tokens[1:])) else text
            where = f'{list_file}:{lineno}'
            relative = osp.normpath(listed).lstrip('/')
            if relative.split('/')[0] == '..':
                outside.append(f'{where}: {listed}')
                continue
            file = osp.splitext(relative)[0] + '.npy'
            if file in files:
                clashes.append(f'{where}: {listed} and line {files[file]} both make {file}')
                continue
            files[file] = lineno
            path = listed if video_root is None or osp.isabs(listed) else \
                osp.join(video_root, listed)
            if not osp.isfile(path):
                missing.append(f'{where}: {path}')
            entries.append(VideoEntry(listed, path, file))
    if outside:
        raise _problems('videos of the list lie above the folder their features would be '
                        'named from', outside, 'List the paths relative to --video-root.')
    if clashes:
        raise _problems('pairs of videos would write the same feature file (their paths '
                        'differ only in the extension)', clashes,
                        'Rename one of each pair or extract them in two runs with two --out.')
    if missing:
        root = f'--video-root {video_root}' if video_root else 'no --video-root'
        raise _problems('videos of the list do not exist', missing,
                        f'Check the list and the folder its paths are relative to ({root}).')
    if not entries:
        raise FeatureExtractionError(f'video list {list_file} names no video (one path per '
                                     'line expected)')
    return entries


# ---------------------------------------------------------------------------- one video
def features_of_input(model: nn.Module, packed: dict, average_views: bool = False
                      ) -> np.ndarray:
    """Features of one packed sample (from :func:`build_test_input`): float32 (views, C),
    or (C,) with ``average_views``."""
    data = model.data_preprocessor(pseudo_collate([packed]), False)
    feats = model.pooled_features(data['inputs'])[0].float()  # (views, C)
    if average_views:
        feats = feats.mean(0)
    return feats.cpu().numpy()


@torch.no_grad()
def video_features(model: nn.Module, video, average_views: bool = False) -> np.ndarray:
    """What ``model``'s classifier receives for each view of ``video`` (a file, a frame
    folder or frames in memory, as :func:`~mmaction.apis.inference_recognizer` takes), as
    float32 (views, C); (C,) averaged over the views with ``average_views``."""
    was_training = model.training
    model.eval()
    try:
        return features_of_input(model, build_test_input(model.cfg, video), average_views)
    finally:
        model.train(was_training)


# ---------------------------------------------------------------------------- a list
class _TestInputs(Dataset):
    """The test pipeline's packed sample of each video, or the error that made it fail
    (decoding runs in the loader's workers)."""

    def __init__(self, cfg, entries: List[VideoEntry]):
        self.cfg, self.entries = cfg, entries

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int):
        entry = self.entries[index]
        try:
            return entry, build_test_input(self.cfg, entry.path), None
        except Exception as err:  # a video that cannot be decoded; reported, not fatal
            return entry, None, f'{type(err).__name__}: {err}'


def _as_is(item):
    return item


def _check_output(out_dir: str, settings: dict) -> None:
    """Refuse an output folder holding features of another extraction; start its
    manifest otherwise (rank 0)."""
    manifest = osp.join(out_dir, MANIFEST)
    if osp.isfile(manifest):
        with open(manifest) as f:
            found = json.load(f)
        if found.get('format') != FEATURES_FORMAT or found.get('settings') != settings:
            differ = sorted(k for k in set(settings) | set(found.get('settings') or {})
                            if (found.get('settings') or {}).get(k) != settings.get(k))
            raise FeatureExtractionError(
                f'{out_dir} holds features of another extraction ({manifest} differs in '
                f'{", ".join(differ) or "format"}); a resumed run must use the same settings. '
                'Give another --out, or delete the folder to start again.')
    elif get_dist_info()[0] == 0:
        write_text_atomic(manifest, json.dumps(
            dict(format=FEATURES_FORMAT, settings=settings, complete=False), indent=1) + '\n')


def _npy_shape(path: str) -> List[int]:
    return list(np.load(path, mmap_mode='r').shape)  # the header only


def write_manifest(out_dir: str, entries: List[VideoEntry], settings: dict,
                   failed: List[dict]) -> dict:
    """``manifest.json``: the settings, and for each video of the list in order its
    feature file and shape (``null`` where it has none: see ``failed``)."""
    videos = []
    for entry in entries:
        path = osp.join(out_dir, entry.file)
        videos.append(dict(video=entry.listed, file=entry.file,
                           shape=_npy_shape(path) if osp.isfile(path) else None))
    manifest = dict(format=FEATURES_FORMAT, settings=settings, dtype='float32',
                    layout='(C,) view average' if settings.get('average_views')
                    else '(views, C), view = crop * num_clips + clip',
                    complete=all(v['shape'] is not None for v in videos),
                    videos=videos, failed=failed)
    write_text_atomic(osp.join(out_dir, MANIFEST), json.dumps(manifest, indent=1) + '\n')
    return manifest


@torch.no_grad()
def extract_features(model: nn.Module, entries: List[VideoEntry], out_dir: str, *,
                     average_views: bool = False, settings: Optional[dict] = None,
                     num_workers: int = 0, progress: bool = True) -> Dict[str, object]:
    """Write the features of every video of ``entries`` (:func:`read_video_list`) not yet
    in ``out_dir`` to ``out_dir/<entry.file>``, then ``manifest.json`` (on rank 0).

    Under DDP every rank calls this with the same list and takes its share (list positions
    ``rank, rank + world_size, ...``); the ranks meet at the end to list the failures.
    ``settings`` (what made the features: config, checkpoint, options) go into the
    manifest; a folder whose manifest has other settings is refused. A video that cannot
    be decoded is logged and listed under ``failed`` and the others go on.

    Returns ``{'written', 'skipped'}`` (this rank's counts), ``'failed'`` (every rank's:
    ``[{'video', 'error'}]``) and ``'manifest'`` (rank 0's, else ``None``).
    """
    logger = MMLogger.get_current_instance()
    rank, world_size = get_dist_info()
    # as the manifest will hold them (tuples become lists), so that a resumed run compares
    settings = json.loads(json.dumps(dict(settings or {}, average_views=bool(average_views)),
                                     default=str))
    _check_output(out_dir, settings)
    mine = entries[rank::world_size]
    todo = [e for e in mine if not osp.isfile(osp.join(out_dir, e.file))]
    if len(todo) < len(mine):
        logger.info(f'{len(mine) - len(todo)} of {len(mine)} videos already have their '
                    f'features in {out_dir}; skipped.')
    was_training = model.training
    model.eval()
    loader = DataLoader(_TestInputs(model.cfg, todo), batch_size=None, shuffle=False,
                        num_workers=num_workers if todo else 0, collate_fn=_as_is)
    bar = ProgressBar(len(todo), file=sys.stdout) if progress and rank == 0 and todo else None
    failed, written = [], 0
    try:
        for entry, packed, error in loader:
            if error is None:
                feats = features_of_input(model, packed, average_views)
                with atomic_write(osp.join(out_dir, entry.file)) as tmp, open(tmp, 'wb') as f:
                    np.save(f, feats)
                written += 1
            else:
                logger.warning(f'{entry.path}: no features: {error}')
                failed.append(dict(video=entry.listed, error=error))
            if bar is not None:
                bar.update()
    finally:
        model.train(was_training)
    if bar is not None:
        sys.stdout.write('\n')
    if world_size > 1:
        failed = [item for part in all_gather_object(failed) for item in part]
    manifest = write_manifest(out_dir, entries, settings, failed) if rank == 0 else None
    return dict(written=written, skipped=len(mine) - len(todo), failed=failed,
                manifest=manifest)
