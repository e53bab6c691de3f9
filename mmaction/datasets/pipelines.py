"""mmaction2 0.x's name of :mod:`mmaction.datasets.transforms`, for code that imports the
pipeline steps from there (``from mmaction.datasets.pipelines import SampleFrames``)."""
from .transforms import *  # noqa: F401,F403
from .transforms import __all__  # noqa: F401
