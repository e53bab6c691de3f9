import pytest


@pytest.fixture(autouse=True)
def _mmaction_scope():
    """Build by plain type names, as the runner does with ``default_scope='mmaction'``."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
