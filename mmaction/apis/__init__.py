"""High-level entry points: build a recognizer from a config and a checkpoint, run it."""
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

__all__ = ['build_test_input', 'inference_recognizer', 'init_recognizer', 'read_label_names',
           'LabelMapError', 'check_label_names', 'gradcam_video', 'RollingRecognizer',
           'WindowError', 'video_timeline', 'window_bounds']
