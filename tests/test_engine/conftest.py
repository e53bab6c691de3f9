import pytest

from mmaction.registry import MODELS
from tests.test_engine.engine_helpers import tiny_model_cfg


@pytest.fixture(autouse=True)
def _mmaction_scope():
    """Build by plain type names, as the runner does with ``default_scope='mmaction'``."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')


@pytest.fixture
def tiny_model():
    return MODELS.build(tiny_model_cfg())
