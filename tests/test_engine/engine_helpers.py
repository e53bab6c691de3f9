"""Shared helpers of the engine tests (tiny models, batches, log capture)."""
import logging

import torch

from mmaction.structures import ActionDataSample
from tests.helpers import tiny_backbone, tiny_recognizer


def tiny_model_cfg(num_classes=5, **backbone):
    """The shared tiny recognizer (tests/helpers.py: width 64, two blocks, 32x32 input)."""
    return tiny_recognizer(num_classes=num_classes, backbone=tiny_backbone(**backbone),
                           test_cfg=dict(average_clips='prob'))


def make_batch(n, num_classes=5, frames=4, size=32, seed=0):
    """A packed batch like the data loader's: uint8 clips (views=1) and labelled samples."""
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (1, 3, frames, size, size), generator=g, dtype=torch.uint8)
              for _ in range(n)]
    labels = torch.randint(0, num_classes, (n, ), generator=g)
    samples = [ActionDataSample().set_gt_label(int(label)) for label in labels]
    return dict(inputs=inputs, data_samples=samples)


class LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())

    @property
    def text(self):
        return '\n'.join(self.messages)
