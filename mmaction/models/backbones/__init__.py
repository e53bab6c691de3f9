from .swin2d import SwinTransformer2D
from .swin2d_adapter import SwinTransformer2D_Adapter
from .swin3d import SwinTransformer3D
from .timesformer import TimeSformer
from .vit_clip import ViT_CLIP
from .vit_imagenet import ViT_ImageNet

__all__ = ['ViT_CLIP', 'ViT_ImageNet', 'TimeSformer', 'SwinTransformer2D',
           'SwinTransformer2D_Adapter', 'SwinTransformer3D']
