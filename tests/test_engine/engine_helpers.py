"""Shared helpers of the engine tests (tiny models, batches, log capture)."""
import logging

import torch

from mmaction.structures import ActionDataSample

def tiny_model_cfg(num_classes=5, num_frames=4, **backbone):
    """A ViT_CLIP recognizer small enough for CPU tests (width 32, one block, 32x32 input)."""
    return dict(
        type='Recognizer3D',
        backbone=dict(type='ViT_CLIP', input_resolution=32, patch_size=16,
                      num_frames=num_frames, width=32, layers=1, heads=2, drop_path_rate=0.0,
                      pretrained=None, **backbone),
        cls_head=dict(type='I3DHead', in_channels=32, num_classes=num_classes,
                      dropout_ratio=0.0),
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
