"""Reading weights made elsewhere: OpenAI CLIP files, released AIM checkpoints."""
from .clip import (OPENAI_CLIP_FILES, clip_search_dirs, load_clip_into,
                   read_clip_visual_state_dict, resolve_clip_file)
from .frames import resample_clip_length
from .io import (CheckpointError, checkpoint_state_dict, load_aim_checkpoint,
                 load_state_dict_checked, safe_torch_load)
from .swin import load_swin_imagenet, load_video_swin, read_swin_imagenet

__all__ = [
    'CheckpointError', 'OPENAI_CLIP_FILES', 'clip_search_dirs', 'load_clip_into',
    'read_clip_visual_state_dict', 'resolve_clip_file', 'checkpoint_state_dict',
    'load_aim_checkpoint', 'load_state_dict_checked', 'safe_torch_load', 'load_swin_imagenet',
    'load_video_swin', 'read_swin_imagenet', 'resample_clip_length'
]
