"""mmaction2 0.x's import paths, as code written against AIM's toolbox uses them, resolve to
this project's objects themselves (not copies or look-alikes)."""
import importlib

import pytest

import mmaction.apis
import mmaction.datasets
import mmaction.datasets.transforms as transforms
import mmaction.evaluation
import mmaction.models.heads
import mmaction.models.losses
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.utils import register_all_modules

ALIASES = [  # (0.x module, name, where it lives here)
    *[(module, name, mmaction.evaluation)
      for module in ('mmaction.core', 'mmaction.core.evaluation')
      for name in ('top_k_accuracy', 'mean_class_accuracy', 'confusion_matrix',
                   'mean_average_precision', 'mmit_mean_average_precision')],
    *[(module, name, mmaction.models.losses)
      for module in ('mmaction.models', 'mmaction.models.losses')
      for name in ('CrossEntropyLoss', 'NLLLoss', 'BCELossWithLogits')],
    ('mmaction.models', 'I3DHead', mmaction.models.heads),
    ('mmaction.datasets', 'RawframeDataset', mmaction.datasets),
    ('mmaction.datasets', 'VideoDataset', mmaction.datasets),
    *[('mmaction.datasets.pipelines', name, transforms) for name in transforms.__all__],
    ('mmaction.apis', 'init_recognizer', mmaction.apis),
    ('mmaction.apis', 'inference_recognizer', mmaction.apis),
]


@pytest.mark.parametrize('module, name, home', ALIASES,
                         ids=[f'{m}.{n}' for m, n, _ in ALIASES])
def test_0x_name_is_our_object(module, name, home):
    assert getattr(importlib.import_module(module), name) is getattr(home, name)


def test_0x_config_types_build_our_classes():
    register_all_modules()
    assert MODELS.get('NLLLoss') is mmaction.models.losses.NLLLoss
    assert MODELS.get('CrossEntropyLoss') is mmaction.models.losses.CrossEntropyLoss
    assert TRANSFORMS.get('FrameSelector') is transforms.FrameSelector
