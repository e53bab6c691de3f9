from .vit_clip import ViT_CLIP

__all__ = ['ViT_CLIP']
