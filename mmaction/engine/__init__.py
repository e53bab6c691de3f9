"""Training-loop pieces; importing this package registers them."""
from .hooks import BadVideoHook

__all__ = ['BadVideoHook']
