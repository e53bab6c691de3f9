from .swin2d import SwinTransformer2D
from .swin2d_adapter import SwinTransformer2D_Adapter
from .swin3d import SwinTransformer3D
from .vit_clip import ViT_CLIP

__all__ = ['ViT_CLIP', 'SwinTransformer2D', 'SwinTransformer2D_Adapter', 'SwinTransformer3D']
