"""Grad-CAM of a video as the model sees it (``demo/demo_gradcam.py``): the config's test
pipeline makes the views, :class:`~mmaction.visualization.gradcam.GradCAM` explains them."""
from typing import Dict, Optional

import numpy as np
from mmengine.dataset import pseudo_collate
from torch import nn

from mmaction.visualization.gradcam import GradCAM
from .inference import VideoInput, build_test_input, check_label_names, read_label_names


def gradcam_video(model: nn.Module, video: VideoInput, label: Optional[int] = None,
                  target_layer: Optional[str] = None, label_names=None) -> Dict:
    """Grad-CAM of ``video`` (a file, or RGB uint8 frames in memory, as
    :func:`~mmaction.apis.inference_recognizer` takes it).

    Returns what :class:`GradCAM` returns (``heat`` (views, T, H, W) in [0, 1], ``label``,
    ``scores``, ``layer``) and ``frames``, the model's input frames as RGB uint8
    (views, T, H, W, 3) (after the pipeline's resizing and cropping: ``heat`` lies on them),
    ``frame_inds`` ((views, T) indices into the video, or ``None`` when the pipeline does not
    record them) and ``name`` (the class name, if ``label_names`` are given).
    """
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError('the model has no .cfg: build it with init_recognizer(config, '
                         'checkpoint)')
    names = read_label_names(label_names)
    check_label_names(names, model.cls_head.num_classes)
    cam = GradCAM(model, target_layer)
    packed = build_test_input(cfg, video)
    frames = packed['inputs']
    if frames.ndim == 4:  # one view without the views axis
        frames = frames.unsqueeze(0)
    if frames.ndim != 5:
        raise ValueError(f'Grad-CAM needs clips shaped (views, C, T, H, W) (FormatShape '
                         f"input_format='NCTHW'); the pipeline gives {tuple(frames.shape)}")
    data = model.data_preprocessor(pseudo_collate([packed]), False)
    result = cam(data['inputs'][0], label)
    views, _, t = frames.shape[:3]
    inds = packed['data_samples'].metainfo.get('frame_inds')
    if inds is not None:
        inds = np.asarray(inds).reshape(-1, t)
        # views are crop-major (FormatShape): the clips' indices again for each crop
        inds = np.tile(inds, (views // len(inds), 1)) if views % len(inds) == 0 else None
    result.update(frames=frames.permute(0, 2, 3, 4, 1).cpu().numpy(), frame_inds=inds,
                  name=names[result['label']] if names is not None else None)
    return result
