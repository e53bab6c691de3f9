"""AIM (Adapting Image Models for Efficient Video Action Recognition) on mmengine."""
from .version import __version__

__all__ = ['__version__']
