"""High-level entry points: build a recognizer from a config and a checkpoint, run it,
extract its features."""
from .features import extract_features, read_video_list, video_features
from .inference import build_test_input, inference_recognizer, init_recognizer, read_label_names

__all__ = ['build_test_input', 'extract_features', 'inference_recognizer', 'init_recognizer',
           'read_label_names', 'read_video_list', 'video_features']
