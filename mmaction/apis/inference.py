"""Recognise the action in one video from Python: build a model from a config and a
checkpoint, run it on a file or on frames in memory.

    model = init_recognizer('configs/recognition/vit/vitclip_base_k400.py', 'aim_k400.pth',
                            device='cuda:0')
    top5 = inference_recognizer(model, 'demo.mp4', label_names='label_map_k400.txt')
    # [(label_index, label_name, score), ...] best first

The model, the weights and the clip are exactly what ``tools/test.py`` uses for the same
config and checkpoint: the config goes through the engine's translation (so the pipelines'
``Normalize`` becomes the data preprocessor), the checkpoint is read the same way (our
files, ``save_tunable_only`` files on top of the pretrained backbone, released AIM files),
and the video goes through the config's test pipeline and ``model.test_step``. The scores
are the ones ``tools/test.py --dump`` writes for that video.
"""
import inspect
import os
import os.path as osp
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from torch import nn

from mmaction.checkpoint import load_into
from mmaction.datasets.transforms import FramesDecode
from mmaction.datasets.transforms.base import pipeline_role, reads_frame_folders
from mmaction.engine import load_config
from mmaction.registry import DATASETS, MODELS, TRANSFORMS
from mmaction.utils import register_all_modules
from mmaction.utils.cli import user_error

Prediction = Tuple[int, Optional[str], float]
VideoInput = Union[str, os.PathLike, np.ndarray, torch.Tensor, Sequence[np.ndarray]]


# ---------------------------------------------------------------------------- the model
def init_recognizer(config: Union[str, os.PathLike, Config],
                    checkpoint: Optional[str] = None,
                    device: Union[str, torch.device] = 'cpu',
                    cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the recognizer of ``config`` with the weights of ``checkpoint``, in eval mode.

    Args:
        config: a config file or :class:`mmengine.Config`, in AIM's (mmaction2 0.x) dialect
            or in mmengine's. It is not modified.
        checkpoint: a checkpoint written by ``tools/train.py`` (full, or with
            ``checkpoint_config.save_tunable_only``: then the pretrained backbone named by
            ``model.backbone.pretrained`` is loaded first), or a released AIM checkpoint
            (``{'meta', 'state_dict'}``). Files are read with ``torch.load(weights_only=True)``.
            Every parameter of the model must be in it, with the model's shape. ``None``:
            the pretrained image model of the config (if any) with AIM's initial adapters
            (which compute the frozen image model's features) and an untrained head.
        device: where the model runs (``'cpu'``, ``'cuda:0'`` ...).
        cfg_options: overrides as ``--cfg-options`` takes them, e.g.
            ``{'model.backbone.pretrained': '/path/ViT-B-16.pt'}``; the keys must exist.

    Returns:
        the model (``Recognizer3D``), with the translated config as ``model.cfg``.
    """
    register_all_modules()
    cfg = load_config(config, cfg_options)
    model = MODELS.build(cfg.model)
    logger = MMLogger.get_current_instance()
    if checkpoint is None:
        model.init_weights()
        logger.warning('init_recognizer: no checkpoint given; the classification head is '
                       'untrained.')
    else:
        load_into(model, str(checkpoint), strict=True, logger=logger)
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


# ---------------------------------------------------------------------------- the clip
def _step_type(step) -> str:
    kind = step.get('type', '') if isinstance(step, dict) else type(step).__name__
    return str(kind).split('.')[-1]


def as_frames(video) -> np.ndarray:
    """``video`` (a (T, H, W, 3) uint8 array or tensor, or a list of (H, W, 3) uint8 frames,
    RGB) as one contiguous (T, H, W, 3) uint8 array; anything else is a ``ValueError`` or
    ``TypeError`` saying what was expected."""
    if isinstance(video, torch.Tensor):
        video = video.detach().cpu().numpy()
    if isinstance(video, (list, tuple)):
        if not video:
            raise ValueError('the list of frames is empty')
        frames = [f.detach().cpu().numpy() if isinstance(f, torch.Tensor) else f
                  for f in video]
        bad = [i for i, f in enumerate(frames) if not isinstance(f, np.ndarray)]
        if bad:
            raise TypeError(f'frame {bad[0]} is a {type(frames[bad[0]]).__name__}; expected '
                            'numpy arrays (H, W, 3) uint8 RGB')
        shapes = sorted({f.shape for f in frames})
        if len(shapes) > 1:
            raise ValueError(f'the frames differ in shape: {shapes}; every frame must be '
                             '(H, W, 3) with the same H and W')
        if frames[0].ndim != 3:
            raise ValueError(f'each frame must be (H, W, 3) uint8 RGB; got shape '
                             f'{frames[0].shape}')
        video = np.stack(frames)
    if not isinstance(video, np.ndarray):
        raise TypeError(f'video must be a file path, a (T, H, W, 3) uint8 array or a list of '
                        f'(H, W, 3) frames; got {type(video).__name__}')
    if video.ndim != 4 or video.shape[-1] != 3:
        raise ValueError(f'frames must be shaped (T, H, W, 3) (RGB, channels last); got '
                         f'{video.shape}' + (' (channels first? use arr.transpose(0, 2, 3, 1))'
                                             if video.ndim == 4 and video.shape[1] == 3 else ''))
    if video.shape[0] == 0:
        raise ValueError('frames: T is 0, there is nothing to recognise')
    if video.dtype != np.uint8:
        hint = ' (values in [0, 1]? use (x * 255).round().astype(np.uint8))' \
            if video.dtype.kind == 'f' else ''
        raise ValueError(f'frames must be uint8 (0..255, as decoded); got {video.dtype}{hint}')
    return np.ascontiguousarray(video)


def _test_dataset_cfg(cfg: Config) -> dict:
    for split in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(split)
        if loader and loader.get('dataset') and loader['dataset'].get('pipeline'):
            return loader['dataset']
    raise ValueError(f'{cfg.filename or "the config"} has no test pipeline (data.test.pipeline '
                     'or data.val.pipeline): inference runs the test pipeline on the video.')


def _dataset_default(dataset_cfg: dict, name: str, fallback):
    """``name`` from the dataset config, else the default of its class's argument."""
    if name in dataset_cfg:
        return dataset_cfg[name]
    kind = dataset_cfg.get('type')
    cls = DATASETS.get(kind) if isinstance(kind, str) else kind
    if cls is not None:
        param = inspect.signature(cls.__init__).parameters.get(name)
        if param is not None and param.default is not inspect.Parameter.empty:
            return param.default
    return fallback


def _count_frame_files(frame_dir: str, template: str, start: int) -> int:
    """Frames ``start``, ``start + 1`` ... that exist in ``frame_dir``."""
    count = 0
    while osp.isfile(osp.join(frame_dir, template.format(start + count))):
        count += 1
    if count == 0:
        raise FileNotFoundError(
            f'{frame_dir} has no frame {template.format(start)} (the test dataset\'s '
            f'filename_tmpl={template!r}, start_index={start}); give a video file or a folder '
            'of frames named like that.')
    return count


def build_test_input(cfg: Config, video: VideoInput) -> dict:
    """The packed sample ``{'inputs', 'data_samples'}`` the test data loader would give for
    ``video``, made by the config's test pipeline.

    * a video file: the pipeline as written (its decoder); for a frame-folder config
      (``RawFrameDecode``) the file is read with PyAV instead;
    * a folder of frames, for a frame-folder config: counted with its ``filename_tmpl``;
    * frames in memory: the pipeline's open/decode steps are replaced by
      :class:`FramesDecode`; sampling, resizing, cropping ... stay as configured.
    """
    dataset = _test_dataset_cfg(cfg)
    steps = list(dataset['pipeline'])
    results = dict(modality=_dataset_default(dataset, 'modality', 'RGB'), test_mode=True,
                   label=None, start_index=_dataset_default(dataset, 'start_index', 0))
    if not any(pipeline_role(s) == 'decode' for s in steps):
        raise ValueError(f'the test pipeline {[_step_type(s) for s in steps]} has no decoder '
                         '(DecordDecode, PyAVDecode, RawFrameDecode ...)')

    if isinstance(video, (str, os.PathLike)):
        path = str(video)
        reads_frames = any(reads_frame_folders(s) for s in steps)
        if osp.isdir(path):
            if not reads_frames:
                raise IsADirectoryError(f'{path} is a directory; the test pipeline of this '
                                        'config decodes video files. Give a video file.')
            template = _dataset_default(dataset, 'filename_tmpl', 'img_{:05}.jpg')
            results.update(frame_dir=path, filename_tmpl=template,
                           total_frames=_count_frame_files(path, template,
                                                           results['start_index']))
        elif not osp.isfile(path):
            raise FileNotFoundError(f'video {path} does not exist')
        elif reads_frames:  # a frame-folder config given a video file: decode it with PyAV
            results.update(filename=path, start_index=0)
            steps = [dict(type='PyAVInit')] + [
                dict(type='PyAVDecode') if reads_frame_folders(s) else s
                for s in steps]
        else:
            results['filename'] = path
    else:
        frames = as_frames(video)
        results.update(total_frames=len(frames), start_index=0)
        steps = [FramesDecode(frames) if pipeline_role(s) == 'decode' else s
                 for s in steps if pipeline_role(s) != 'open']

    pipeline = [TRANSFORMS.build(s) if isinstance(s, dict) else s for s in steps]
    for step in pipeline:
        results = step(results)
    if not isinstance(results, dict) or 'data_samples' not in results:
        raise ValueError('the test pipeline must end by packing the sample (Collect + ToTensor '
                         'or PackActionInputs)')
    return results


# ---------------------------------------------------------------------------- inference
@user_error
class LabelMapError(ValueError):
    """A label map that does not fit the model (another number of classes)."""


def check_label_names(names: Optional[Sequence[str]], num_classes: int) -> None:
    """``LabelMapError`` unless ``names`` is ``None`` or names ``num_classes`` classes."""
    if names is not None and len(names) != num_classes:
        raise LabelMapError(f'{len(names)} label names for a model with {num_classes} classes '
                            f'(model.cls_head.num_classes); the label map must name every '
                            'class, one per line, in label order.')


def read_label_names(labels: Union[str, os.PathLike, Sequence[str], None]
                     ) -> Optional[List[str]]:
    """Class names from a file (one per line, line ``i`` naming class ``i``) or a list."""
    if labels is None:
        return None
    if isinstance(labels, (str, os.PathLike)):
        path = Path(labels)
        if not path.is_file():
            raise FileNotFoundError(f'label map {path} does not exist (expected a text file '
                                    'with one class name per line)')
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return [str(name) for name in labels]


@torch.no_grad()
def inference_recognizer(model: nn.Module,
                         video: VideoInput,
                         topk: int = 5,
                         label_names: Union[str, os.PathLike, Sequence[str], None] = None,
                         return_scores: bool = False
                         ) -> Union[List[Prediction], Tuple[List[Prediction], np.ndarray]]:
    """Recognise the action in one video.

    Args:
        model: from :func:`init_recognizer` (it carries ``model.cfg``).
        video: a video file (decoded by the config's test pipeline, e.g. ``DecordDecode``),
            a folder of frames for a frame-folder config, or RGB uint8 frames in memory: a
            (T, H, W, 3) array or tensor, or a list of (H, W, 3) arrays; those are sampled,
            resized and cropped by the test pipeline as a decoded file would be.
        topk: how many classes to return.
        label_names: class names (a list, or a file with one name per line) to put into the
            result; ``None`` leaves the names ``None``.
        return_scores: also return the full score vector.

    Returns:
        ``[(label_index, label_name_or_None, score), ...]``, the ``topk`` best classes,
        highest score first. With ``return_scores=True``: ``(that list, scores)``, where
        ``scores`` is the float32 numpy array ``tools/test.py --dump`` writes as
        ``pred_score``: (num_classes,), or (views, num_classes) with
        ``test_cfg.average_clips=None`` (the top-k then ranks the mean over views).
    """
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError('the model has no .cfg: build it with init_recognizer(config, '
                         'checkpoint)')
    names = read_label_names(label_names)
    num_classes = model.cls_head.num_classes
    check_label_names(names, num_classes)
    if not isinstance(topk, int) or topk < 1:
        raise ValueError(f'topk must be a positive int, got {topk!r}')
    packed = build_test_input(cfg, video)
    was_training = model.training
    model.eval()
    try:
        sample = model.test_step(pseudo_collate([packed]))[0]
    finally:
        model.train(was_training)
    scores = sample.pred_score.detach().float().cpu().numpy()
    ranked = scores.mean(0) if scores.ndim == 2 else scores
    order = np.argsort(-ranked, kind='stable')[:min(topk, num_classes)]
    top = [(int(i), names[i] if names is not None else None, float(ranked[i])) for i in order]
    return (top, scores) if return_scores else top
