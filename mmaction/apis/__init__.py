"""High-level entry points: build a recognizer from a config and a checkpoint, run it."""
from .inference import build_test_input, inference_recognizer, init_recognizer, read_label_names

__all__ = ['build_test_input', 'inference_recognizer', 'init_recognizer', 'read_label_names']
