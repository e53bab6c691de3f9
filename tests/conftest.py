import os

import pytest

# Tests run on CPU with few threads: 2-core CI machines thrash with torch's defaults.
os.environ.setdefault('OMP_NUM_THREADS', '2')


@pytest.fixture(autouse=True)
def _seed():
    import torch
    torch.manual_seed(0)
