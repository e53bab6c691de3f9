"""The tree is clean under the project's ruff settings (pyproject.toml: pyflakes,
pycodestyle, import order), as the pre-commit hook keeps it."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    ruff = shutil.which('ruff', path=str(Path(sys.executable).parent)) or shutil.which('ruff')
    assert ruff, 'ruff is part of the tests extra: pip install -e ".[tests]"'
    out = subprocess.run([ruff, 'check', '--no-cache', '.'], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
