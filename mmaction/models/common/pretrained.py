"""Loading a backbone's ``pretrained`` weights without knowing their file format."""
from torch import nn

from mmaction.registry import WEIGHT_LOADERS


def load_pretrained(backbone: nn.Module) -> None:
    """Read ``backbone.pretrained`` into ``backbone`` with the loader registered for its class
    or the nearest parent class that has one (``mmaction.checkpoint.pretrained``)."""
    for cls in type(backbone).__mro__:
        loader = WEIGHT_LOADERS.get(cls.__name__)
        if loader is not None:
            loader(backbone, backbone.pretrained)
            return
    raise KeyError(f'{type(backbone).__name__}.pretrained={backbone.pretrained!r} is set, but '
                   'no weight loader is registered for this backbone or its parents (the '
                   'readers are registered by mmaction/checkpoint/pretrained.py).')
