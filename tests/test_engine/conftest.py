import pytest
from mmengine.logging import MMLogger

from tests.test_engine.engine_helpers import LogCapture, tiny_model_cfg
from mmaction.registry import MODELS


@pytest.fixture(autouse=True)
def _mmaction_scope():
    """Build by plain type names, as the runner does with ``default_scope='mmaction'``."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')


@pytest.fixture
def tiny_model():
    return MODELS.build(tiny_model_cfg())


@pytest.fixture
def mmlog():
    """Messages logged through mmengine's current logger during the test."""
    logger = MMLogger.get_current_instance()
    handler = LogCapture()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
