"""The common shape of a pipeline step."""


class BaseTransform:
    """A pipeline step: reads some keys of the ``results`` dict, writes others, returns it.

    Subclasses implement :meth:`transform`; each documents the keys it reads and writes.
    ``repr`` lists the constructor arguments so an error can name the step it came from.
    """

    def __call__(self, results: dict) -> dict:
        return self.transform(results)

    def transform(self, results: dict) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items() if not k.startswith('_'))
        return f'{type(self).__name__}({args})'
