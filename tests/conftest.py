import logging
import os
import sys

import pytest

# Tests run on CPU with few threads: 2-core CI machines thrash with torch's defaults.
os.environ.setdefault('OMP_NUM_THREADS', '2')


@pytest.fixture(autouse=True)
def _seed():
    import torch
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _loggers_outlive_captured_streams():
    """An mmengine logger made during a test writes to the stream sys.stdout was then, which
    is pytest's per-test capture when the test used capsys and is closed after it; a later
    test's message through that logger would end in 'Logging error ... I/O operation on
    closed file'. Such handlers go back to the stream sys.stdout is after the test."""
    yield
    from mmengine.logging import MMLogger
    for logger in list(MMLogger._instance_dict.values()):
        for handler in logger.handlers:
            if (type(handler) is logging.StreamHandler
                    and getattr(handler.stream, 'closed', False)):
                handler.stream = sys.stdout  # not setStream: it flushes the closed one


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
