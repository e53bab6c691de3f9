"""Which reader loads a backbone's ``pretrained`` file: registered by backbone class name in
``WEIGHT_LOADERS``, which the backbones' ``init_weights`` consult
(:func:`mmaction.models.common.pretrained.load_pretrained`). Subclasses without an entry use
their parent's (``SwinTransformer2D_Adapter`` reads as ``SwinTransformer2D``)."""
from torch import nn

from mmaction.registry import WEIGHT_LOADERS
from .clip import load_clip_into, timesformer_from_clip
from .swin import load_swin_imagenet, load_video_swin
from .vit_imagenet import load_vit_imagenet_into


@WEIGHT_LOADERS.register_module(name='ViT_CLIP')
def load_vit_clip(backbone: nn.Module, spec: str) -> None:
    """OpenAI's CLIP image tower ('openaiclip' or a file)."""
    load_clip_into(backbone, spec)


@WEIGHT_LOADERS.register_module(name='TimeSformer')
def load_timesformer(backbone: nn.Module, spec: str) -> None:
    """CLIP's image tower; ``t_attn``/``t_norm`` start as copies of each block's
    ``attn``/``ln_1``."""
    load_clip_into(backbone, spec, derive=timesformer_from_clip)


@WEIGHT_LOADERS.register_module(name='ViT_ImageNet')
def load_vit_imagenet(backbone: nn.Module, spec: str) -> None:
    """An ImageNet-21K ViT (timm's .pth or Google's .npz)."""
    load_vit_imagenet_into(backbone, spec)


@WEIGHT_LOADERS.register_module(name='SwinTransformer2D')
def load_swin2d(backbone: nn.Module, spec: str) -> None:
    """An ImageNet Swin file, its patch embedding inflated over time."""
    load_swin_imagenet(backbone, spec)


@WEIGHT_LOADERS.register_module(name='SwinTransformer3D')
def load_swin3d(backbone: nn.Module, spec: str) -> None:
    """An ImageNet Swin inflated (``pretrained2d=True``) or a Video Swin checkpoint."""
    if backbone.pretrained2d:
        load_swin_imagenet(backbone, spec)
    else:
        load_video_swin(backbone, spec)
