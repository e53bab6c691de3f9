"""Export a recognizer to ONNX: ``Recognizer3D``'s test-mode class scores (backbone and head,
the views combined as ``model.test_cfg.average_clips`` says) for normalised clips.

    model = init_recognizer(CONFIG, CHECKPOINT)
    report = export_onnx(model, (1, 3, 8, 224, 224), 'aim.onnx', dynamic_batch=True,
                         verify=True)

The graph's input ``clips`` is what the data preprocessor gives the model: float32 clips
already normalised by the config's mean and std, (N, C, T, H, W) (one view per video) or
(N, views, C, T, H, W). Its output ``scores`` is the ``pred_score`` that ``tools/test.py``
writes for the same input: (N, num_classes), or (N, views, num_classes) with
``average_clips=None``. Decoding, sampling and normalisation stay outside the graph.
"""
import importlib
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from torch import nn

from mmaction.utils.cli import user_error
from mmaction.utils.fileio import atomic_write

#: largest absolute difference between onnxruntime's and torch's scores that ``verify`` accepts
TOLERANCE = 1e-4
EXPORTERS = ('dynamo', 'torchscript')


@user_error
class ExportError(ValueError):
    """An export that cannot be made as asked (missing packages, a shape the model does not
    take, outputs that differ); the message says why and the fix."""


class ExportedScores(nn.Module):
    """``model``'s test-mode scores as a module of one tensor: what the ONNX graph computes.

    Reads normalised clips (N, C, T, H, W) or (N, views, C, T, H, W); returns the scores of
    :meth:`Recognizer3D.predict` for them, computed without its ``max_testing_views``
    chunking (one batch of all views, so that the batch size can be left dynamic).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        flat, views = self.model._flatten_views(clips)
        scores = self.model.cls_head(self.model.extract_feat(flat))
        return self.model.combine_views(scores, views)


def _require(*names: str) -> list:
    """The modules ``names``, or one :class:`ExportError` naming those missing."""
    found, missing = [], []
    for name in names:
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(f'ONNX export needs the package(s) {", ".join(missing)}, not '
                          'installed; install them with: pip install -e ".[export]"')
    return found


def _check_shape(shape: Sequence[int]) -> tuple:
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (5, 6) or min(shape) < 1:
        raise ExportError(f'--shape must be N C T H W (one view per video) or N V C T H W, '
                          f'positive sizes; got {" ".join(map(str, shape))}. E.g. --shape 1 3 '
                          '8 224 224')
    if shape[-4] != 3:
        raise ExportError(f'--shape {" ".join(map(str, shape))}: the channel axis (C, '
                          f'before T H W) must be 3 (RGB), got {shape[-4]}')
    return shape


def training_features_off(model: nn.Module) -> nn.Module:
    """``model`` in eval mode (dropout and stochastic depth off) without gradient
    checkpointing (``with_cp``), which only matters when gradients are kept."""
    model.eval()
    if hasattr(model.backbone, 'with_cp'):
        model.backbone.with_cp = False
    return model


def _run_onnx(onnxruntime, path: str, clips: torch.Tensor) -> np.ndarray:
    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.run(['scores'], {'clips': clips.numpy()})[0]


@torch.no_grad()
def export_onnx(model: nn.Module, shape: Sequence[int], output_file: str, *,
                opset_version: Optional[int] = None, dynamic_batch: bool = False,
                verify: bool = False, exporter: str = 'dynamo', seed: int = 0
                ) -> Dict[str, object]:
    """Write ``model``'s test-mode scores (:class:`ExportedScores`) for clips of ``shape`` as
    the ONNX file ``output_file`` (atomically: a failed export leaves no file).

    Args:
        model: a ``Recognizer3D`` (from :func:`~mmaction.apis.init_recognizer`); put in
            eval mode on the CPU, with ``with_cp`` off.
        shape: (N, C, T, H, W) or (N, views, C, T, H, W) of the input.
        opset_version: the ONNX opset; ``None``: the exporter's default.
        dynamic_batch: leave N free (the other sizes stay those of ``shape``).
        verify: check the file with ``onnx.checker`` and compare onnxruntime's scores with
            torch's on random clips (also a batch of another size with ``dynamic_batch``):
            they must agree within :data:`TOLERANCE`, else :class:`ExportError`.
        exporter: ``'dynamo'`` (``torch.export``-based, torch's default) or
            ``'torchscript'`` (the legacy tracer, deprecated by torch).

    Returns:
        ``{'file', 'opset', 'max_abs_diff'}`` (the differences ``None`` without ``verify``;
        ``max_abs_diff`` is a dict by batch size).
    """
    if exporter not in EXPORTERS:
        raise ExportError(f'exporter must be one of {EXPORTERS}, got {exporter!r}')
    shape = _check_shape(shape)
    onnx, onnxruntime = _require('onnx', 'onnxruntime',
                                 *(['onnxscript'] if exporter == 'dynamo' else []))[:2]
    scores = ExportedScores(training_features_off(model.cpu())).eval()
    generator = torch.Generator().manual_seed(seed)
    clips = torch.randn(shape, generator=generator)
    try:
        expected = scores(clips)  # torch's answer; fills the backbones' geometry caches too
    except ValueError as err:  # the backbone's word on a size it cannot take
        raise ExportError(f'--shape {" ".join(map(str, shape))}: {err}') from err
    # torch.export fixes a dimension whose example size is 1: trace a batch of 2
    example = torch.randn((2, ) + shape[1:], generator=generator) if dynamic_batch and \
        shape[0] == 1 else clips
    kwargs = dict(input_names=['clips'], output_names=['scores'], opset_version=opset_version)
    if exporter == 'dynamo':
        kwargs.update(dynamo=True, external_data=False)
        if dynamic_batch:
            kwargs['dynamic_shapes'] = ({0: torch.export.Dim('batch')}, )
    else:
        kwargs['dynamo'] = False
        if dynamic_batch:
            kwargs['dynamic_axes'] = {'clips': {0: 'batch'}, 'scores': {0: 'batch'}}
    with atomic_write(output_file) as tmp:
        torch.onnx.export(scores, (example, ), tmp, **kwargs)
    graph = onnx.load(output_file, load_external_data=False)
    opset = next((o.version for o in graph.opset_import if o.domain in ('', 'ai.onnx')), None)
    report = dict(file=osp.abspath(output_file), opset=opset, max_abs_diff=None)
    if not verify:
        return report
    onnx.checker.check_model(output_file)
    checks = [(clips, expected)]
    if dynamic_batch:
        other = torch.randn((shape[0] + 1, ) + shape[1:], generator=generator)
        checks.append((other, scores(other)))
    report['max_abs_diff'] = diffs = {}
    for inputs, want in checks:
        got = _run_onnx(onnxruntime, output_file, inputs)
        if got.shape != tuple(want.shape):
            raise ExportError(f'{output_file}: onnxruntime gave scores of shape {got.shape} '
                              f'for a batch of {inputs.shape[0]}, torch {tuple(want.shape)}')
        diffs[inputs.shape[0]] = float(np.abs(got - want.numpy()).max())
    worst = max(diffs.values())
    if not worst <= TOLERANCE:
        raise ExportError(f'{output_file}: onnxruntime\'s scores differ from torch\'s by up '
                          f'to {worst:.3g} (batch size: difference {diffs}), more than '
                          f'{TOLERANCE}; the file is kept for inspection.')
    return report
