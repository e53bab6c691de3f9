"""A tiny AIM run shared by the API and demo tests: generated motion videos, a CLIP-layout
image model, one epoch of tools/train.py saved with save_tunable_only, and the
tools/test.py --dump of its validation split."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import pytest

from tests.helpers import make_clip_tower, write_clip_file

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'recognition', 'vit', 'vitclip_tiny_synthetic.py')


def run_tool(args) -> subprocess.CompletedProcess:
    """``python ARGS`` in the repository, single-threaded and outside any launcher."""
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    env.pop('RANK', None)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def _run(args):
    out = run_tool(args)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


@pytest.fixture(scope='session')
def tiny_run(tmp_path_factory):
    from mmengine.logging import MMLogger

    from mmaction.synthetic.videos import generate_dataset
    MMLogger.get_current_instance()  # made here, not inside a test that captures stdout
    root = tmp_path_factory.mktemp('apis')
    paths = generate_dataset(str(root / 'data'), num_train=8, num_val=4, size=64,
                             num_frames=12, seed=0)
    clip = write_clip_file(root / 'tiny_clip.pt', make_clip_tower(seed=1, layers=4), jit=True)
    options = {
        'model.backbone.pretrained': clip,
        'data.train.ann_file': paths['train'], 'data.train.data_prefix': paths['videos'],
        'data.val.ann_file': paths['val'], 'data.val.data_prefix': paths['videos'],
        'data.test.ann_file': paths['val'], 'data.test.data_prefix': paths['videos'],
    }
    overrides = [f'{k}={v}' for k, v in options.items()]
    work_dir = root / 'work'
    _run(['tools/train.py', CONFIG, '--work-dir', str(work_dir), '--seed', '0',
          '--cfg-options', *overrides, 'total_epochs=1', 'data.videos_per_gpu=4',
          'data.workers_per_gpu=0', 'checkpoint_config.interval=1',
          'checkpoint_config.save_tunable_only=True'])
    checkpoint = str(work_dir / 'epoch_1.pth')
    dump = str(root / 'dump.pkl')
    # one video per batch: the scores are then bit for bit those of a lone video (a batched
    # matrix product may round differently)
    _run(['tools/test.py', CONFIG, checkpoint, '--dump', dump, '--work-dir',
          str(root / 'test'), '--cfg-options', *overrides,
          'data.test_dataloader.videos_per_gpu=1', 'data.test_dataloader.workers_per_gpu=0'])
    with open(dump, 'rb') as f:
        records = pickle.load(f)
    return dict(root=root, config=CONFIG, checkpoint=checkpoint, options=options,
                records=records, label_map=paths['label_map'], work_dir=str(work_dir))
