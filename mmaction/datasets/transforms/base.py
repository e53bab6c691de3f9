"""The common shape of a pipeline step."""


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

    def __call__(self, results: dict) -> dict:
        return self.transform(results)

    def transform(self, results: dict) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items() if not k.startswith('_'))
        return f'{type(self).__name__}({args})'
