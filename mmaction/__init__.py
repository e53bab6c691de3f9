"""AIM (Adapting Image Models for Efficient Video Action Recognition) on mmengine."""
import os as _os
import sys as _sys

from .version import __version__

# Idle OpenMP threads sleep instead of spinning, which on shared cores starves the data-loader
# workers and other processes (mmaction.utils.threads). GNU OpenMP reads this once, when torch
# loads it: it must be in the environment before torch is first imported, so it is set here.
#: the wait policy the OpenMP runtime started with, None where torch came first (unknown)
OMP_WAIT_POLICY_AT_START = None
if 'torch' not in _sys.modules:
    OMP_WAIT_POLICY_AT_START = _os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE').upper()
elif _os.environ.get('OMP_WAIT_POLICY'):
    OMP_WAIT_POLICY_AT_START = _os.environ['OMP_WAIT_POLICY'].upper()

__all__ = ['__version__']
