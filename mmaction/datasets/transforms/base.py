"""The common shape of a pipeline step, and what a step declares about itself."""
from typing import Optional

from mmaction.registry import TRANSFORMS


class BaseTransform:
    """A pipeline step: reads some keys of the ``results`` dict, writes others, returns it.

    Subclasses implement :meth:`transform`; each documents the keys it reads and writes.
    ``repr`` lists the constructor arguments so an error can name the step it came from.

    The one rule every random step keeps: draw only from Python's ``random`` and numpy's
    global generator. The dataset reseeds both from the sample's own seed before its pipeline
    runs (:class:`~mmaction.datasets.SeededSampler`), which is what makes a sample's
    augmentations the same whichever worker loads it and whether or not the run was resumed.
    A step with its own generator, or drawing from torch's, would break both.
    """

    #: What code that reads or rewrites pipelines (the config checks, the inference API)
    #: must know of this step, said here so that a new step needs no list elsewhere:
    #: ``'sampler'`` (chooses ``frame_inds``; its ``clip_len`` follows the backbone's
    #: ``num_frames``), ``'open'`` (opens the video file), ``'decode'`` (decodes the sampled
    #: frames), or ``None``.
    pipeline_role: Optional[str] = None
    #: a decoder that reads a folder of extracted frames rather than a video file
    reads_frame_folders: bool = False

    def __call__(self, results: dict) -> dict:
        return self.transform(results)

    def transform(self, results: dict) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items() if not k.startswith('_'))
        return f'{type(self).__name__}({args})'


def step_class(step) -> Optional[type]:
    """The class of a pipeline step: a built step's own, else the one ``TRANSFORMS`` registers
    under its dict's ``type`` (a scope prefix such as ``mmaction.`` ignored); ``None`` when
    no class is known."""
    if not isinstance(step, dict):
        return type(step)
    kind = step.get('type')
    if isinstance(kind, type):
        return kind
    return TRANSFORMS.get(kind.split('.')[-1]) if isinstance(kind, str) and kind else None


def pipeline_role(step) -> Optional[str]:
    """The :attr:`BaseTransform.pipeline_role` of a step (a dict or a built step)."""
    return getattr(step_class(step), 'pipeline_role', None)


def reads_frame_folders(step) -> bool:
    """Whether a step (a dict or a built step) decodes folders of extracted frames."""
    return bool(getattr(step_class(step), 'reads_frame_folders', False))
