"""The README and docs/*.md stay true where a machine can check them: every repository path
they name in backticks exists (user data and outputs excepted), and every
``python tools/...`` command they show is accepted by the tool's argument parser."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / 'README.md', *(ROOT / 'docs').glob('*.md')])
#: top-level folders a path must start with to count as a repository path
REPO_TOPS = ('mmaction/', 'tools/', 'configs/', 'docs/', 'tests/', 'demo/', '.ci/')
#: what a user or a run makes, not the repository: named in docs, never shipped
USER_PATHS = ('data/', 'work_dirs', 'out/', 'results', 'tests/fixtures/<')
PATH = re.compile(r'`([A-Za-z0-9_./{},*<>-]+)`')


def _expand(path: str) -> list:
    """``a/{b,c}.py`` -> ``a/b.py``, ``a/c.py``."""
    match = re.search(r'\{([^}]*)\}', path)
    if not match:
        return [path]
    return [p for part in match.group(1).split(',')
            for p in _expand(path[:match.start()] + part + path[match.end():])]


def _named_paths():
    for doc in DOCS:
        for lineno, line in enumerate(doc.read_text().splitlines(), 1):
            for raw in PATH.findall(line):
                raw = raw.split(':')[0].rstrip('.,')
                if not raw.startswith(REPO_TOPS) or raw.startswith(USER_PATHS):
                    continue
                if any(c in raw for c in '*<>') or raw.endswith('_N.pth'):
                    continue
                for path in _expand(raw):
                    yield doc.relative_to(ROOT), lineno, path


def test_every_repository_path_named_in_the_docs_exists():
    missing = [f'{doc}:{lineno}: {path}' for doc, lineno, path in _named_paths()
               if not (ROOT / path).exists()]
    assert missing == []


def _commands():
    for doc in DOCS:
        text = doc.read_text().replace('\\\n', ' ')
        for block in re.findall(r'```(?:bash)?\n(.*?)```', text, re.S):
            for line in block.splitlines():
                line = line.split(' #')[0].strip()
                for part in line.split('&&'):
                    part = part.strip()
                    if '[' in part:  # a synopsis ([--option ...]), not a command to run
                        continue
                    if part.startswith('python tools/') or part.startswith('python demo/'):
                        yield doc.relative_to(ROOT), part


def test_the_docs_show_tool_commands():
    assert len(list(_commands())) >= 5


@pytest.mark.parametrize('doc, command', sorted(set(_commands())),
                         ids=lambda v: str(v)[:60])
def test_every_tool_command_shown_parses(doc, command):
    """The tool's own parser accepts the arguments (``parse_args`` only, nothing runs): a
    renamed or removed option in a doc fails here."""
    argv = shlex.split(command)[1:]
    code = ('import runpy, sys\n'
            f'sys.argv = {argv!r}\n'
            # as `python TOOL` runs it: the tool's folder first on sys.path
            'sys.path.insert(0, __import__("os").path.dirname(sys.argv[0]))\n'
            'module = runpy.run_path(sys.argv[0], run_name="docs_check")\n'
            'parse = module.get("parse_args")\n'
            'assert parse is not None, "no parse_args in " + sys.argv[0]\n'
            'parse(sys.argv[1:])\n')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, f'{doc}: {command}\n{out.stderr[-1500:]}'
