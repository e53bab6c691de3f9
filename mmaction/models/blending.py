"""Batch-level target blending (``model.train_cfg.blending``).

A blending takes a training batch and its hard labels and returns the (possibly mixed)
inputs with soft targets of shape (N, num_classes); the head's loss then uses those targets.
The names are the ones AIM's (mmaction 0.x) configs use.
"""
import torch
import torch.nn.functional as F

from mmaction.registry import MODELS


class BaseBlending:

    def __init__(self, num_classes: int):
        self.num_classes = num_classes

    def _onehot(self, labels: torch.Tensor, dtype) -> torch.Tensor:
        if labels.ndim == 2:  # multi-hot rows of multi-label data: already the targets
            return labels.to(dtype)
        if labels.device.type == 'cpu':
            if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) \
                    < self.num_classes:
                raise ValueError(f'labels {labels.tolist()} are out of range for blending '
                                 f'with num_classes={self.num_classes}')
            return F.one_hot(labels.long(), self.num_classes).to(dtype)
        # on an accelerator, reading the labels back would wait for the device at every step;
        # the datasets check labels against num_classes when they read the annotation list
        onehot = torch.zeros(labels.shape[0], self.num_classes, dtype=dtype,
                             device=labels.device)
        return onehot.scatter_(1, labels.long().view(-1, 1), 1)

    def __call__(self, inputs: torch.Tensor, labels: torch.Tensor):
        raise NotImplementedError


@MODELS.register_module()
class LabelSmoothing(BaseBlending):
    """``target = (1 - smoothing) * onehot + smoothing / num_classes``; inputs unchanged."""

    def __init__(self, num_classes: int, smoothing: float = 0.1):
        super().__init__(num_classes)
        if not 0 <= smoothing < 1:
            raise ValueError(f'smoothing must be in [0, 1), got {smoothing}')
        self.smoothing = smoothing

    def __call__(self, inputs, labels):
        onehot = self._onehot(labels, torch.float32)
        return inputs, onehot * (1 - self.smoothing) + self.smoothing / self.num_classes


@MODELS.register_module()
class MixupBlending(BaseBlending):
    """Mix each clip with another of the batch: ``lam * x_i + (1 - lam) * x_j``,
    ``lam ~ Beta(alpha, alpha)``; targets mixed the same way."""

    def __init__(self, num_classes: int, alpha: float = 0.2):
        super().__init__(num_classes)
        self.beta = torch.distributions.Beta(alpha, alpha)

    def __call__(self, inputs, labels):
        onehot = self._onehot(labels, torch.float32).to(inputs.device)
        lam = float(self.beta.sample())
        perm = torch.randperm(inputs.shape[0], device=inputs.device)
        return (lam * inputs + (1 - lam) * inputs[perm],
                lam * onehot + (1 - lam) * onehot[perm])


@MODELS.register_module()
class CutmixBlending(BaseBlending):
    """Paste a random box (the same in every frame) from another clip of the batch; the
    targets are mixed by the pasted area."""

    def __init__(self, num_classes: int, alpha: float = 0.2):
        super().__init__(num_classes)
        self.beta = torch.distributions.Beta(alpha, alpha)

    def __call__(self, inputs, labels):
        onehot = self._onehot(labels, torch.float32).to(inputs.device)
        h, w = inputs.shape[-2:]
        lam = float(self.beta.sample())
        cut_h, cut_w = int(h * (1 - lam)**0.5), int(w * (1 - lam)**0.5)
        cy, cx = int(torch.randint(h, ())), int(torch.randint(w, ()))
        y1, y2 = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, h)
        x1, x2 = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, w)
        perm = torch.randperm(inputs.shape[0], device=inputs.device)
        inputs = inputs.clone()
        inputs[..., y1:y2, x1:x2] = inputs[perm][..., y1:y2, x1:x2]
        lam = 1 - (y2 - y1) * (x2 - x1) / (h * w)
        return inputs, lam * onehot + (1 - lam) * onehot[perm]
