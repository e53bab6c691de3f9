"""High-level entry points: build a recognizer from a config and a checkpoint, run it (on
clips, sliding windows or a live source), extract its features, see where it looks."""
from .features import extract_features, read_video_list, video_features
from .gradcam import gradcam_video
from .inference import (
    LabelMapError,
    build_test_input,
    check_label_names,
    inference_recognizer,
    init_recognizer,
    read_label_names,
)
from .windows import RollingRecognizer, WindowError, video_timeline, window_bounds

__all__ = ['build_test_input', 'extract_features', 'inference_recognizer', 'init_recognizer',
           'read_label_names', 'read_video_list', 'video_features', 'LabelMapError',
           'check_label_names', 'gradcam_video', 'RollingRecognizer', 'WindowError',
           'video_timeline', 'window_bounds']
