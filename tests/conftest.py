import os

import pytest

# Tests run on CPU with few threads: 2-core CI machines thrash with torch's defaults.
os.environ.setdefault('OMP_NUM_THREADS', '2')


@pytest.fixture(autouse=True)
def _seed():
    import torch
    torch.manual_seed(0)


@pytest.fixture
def mmlog():
    """Messages logged through mmengine's current logger during the test."""
    from mmengine.logging import MMLogger

    from tests.test_engine.engine_helpers import LogCapture
    logger = MMLogger.get_current_instance()
    handler = LogCapture()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
