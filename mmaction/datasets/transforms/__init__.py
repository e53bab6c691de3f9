"""Pipeline steps; importing this package registers them all in ``TRANSFORMS``."""
from .augment import (
                      BrightnessContrastSaturationHueJitter,
                      CenterCrop,
                      ColorJitter,
                      Flip,
                      MultiGroupCrop,
                      MultiScaleCrop,
                      Normalize,
                      RandomCrop,
                      RandomErasing,
                      RandomResizedCrop,
                      Resize,
                      TenCrop,
                      ThreeCrop,
)
from .base import BaseTransform
from .formatting import Collect, FormatShape, ImageToTensor, PackActionInputs, ToTensor, Transpose
from .loading import (
                      DecordDecode,
                      DecordInit,
                      FramesDecode,
                      FrameSelector,
                      OpenCVDecode,
                      OpenCVInit,
                      PyAVDecode,
                      PyAVInit,
                      RawFrameDecode,
                      VideoDecodeError,
)
from .rand_augment import Imgaug, RandAugment
from .sampling import DenseSampleFrames, SampleFrames, UniformSampleFrames

__all__ = [
    'BaseTransform', 'BrightnessContrastSaturationHueJitter', 'CenterCrop', 'Collect',
    'ColorJitter', 'DecordDecode', 'DecordInit', 'DenseSampleFrames', 'Flip', 'FormatShape',
    'FrameSelector', 'FramesDecode', 'ImageToTensor', 'Imgaug', 'MultiGroupCrop', 'MultiScaleCrop',
    'Normalize', 'OpenCVDecode', 'OpenCVInit', 'PackActionInputs', 'PyAVDecode', 'PyAVInit',
    'RandAugment', 'RandomCrop', 'RandomErasing', 'RandomResizedCrop', 'RawFrameDecode',
    'Resize', 'SampleFrames', 'TenCrop', 'ThreeCrop', 'ToTensor', 'Transpose',
    'UniformSampleFrames', 'VideoDecodeError'
]
