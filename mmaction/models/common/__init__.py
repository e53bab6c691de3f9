from .activation import QuickGELU
from .adapter import Adapter
from .drop_path import DropPath
from .layer_norm import LayerNorm

__all__ = ['Adapter', 'DropPath', 'LayerNorm', 'QuickGELU']
