"""The one place that reads and writes weights: our checkpoints (full, ``save_tunable_only``,
published), released AIM checkpoints, OpenAI CLIP files, ImageNet Swin and ViT files (timm,
Google)."""
from .clip import (
                   OPENAI_CLIP_FILES,
                   clip_search_dirs,
                   load_clip_into,
                   read_clip_visual_state_dict,
                   resolve_clip_file,
                   timesformer_from_clip,
)
from .frames import resample_clip_length
from .io import CheckpointError, checkpoint_state_dict, file_problem, read_checkpoint, to_plain
from .load import load_into, load_state_dict_checked
from .ours import (
                   TUNABLE_ONLY_KEY,
                   complete_tunable_only,
                   find_latest_checkpoint,
                   publish_checkpoint,
                   tunable_state_dict,
)
from .pretrained import load_swin2d, load_swin3d, load_timesformer, load_vit_clip, load_vit_imagenet
from .swin import load_swin_imagenet, load_video_swin, read_swin_imagenet
from .vit_imagenet import load_vit_imagenet_into, read_vit_imagenet

__all__ = [
    'CheckpointError', 'OPENAI_CLIP_FILES', 'clip_search_dirs', 'load_clip_into',
    'read_clip_visual_state_dict', 'resolve_clip_file', 'checkpoint_state_dict',
    'file_problem', 'read_checkpoint', 'to_plain', 'load_into', 'load_state_dict_checked',
    'TUNABLE_ONLY_KEY', 'complete_tunable_only', 'find_latest_checkpoint',
    'publish_checkpoint', 'tunable_state_dict', 'load_swin_imagenet', 'load_video_swin',
    'read_swin_imagenet', 'resample_clip_length', 'timesformer_from_clip',
    'load_vit_imagenet_into', 'read_vit_imagenet', 'load_vit_clip', 'load_timesformer',
    'load_vit_imagenet', 'load_swin2d', 'load_swin3d'
]
