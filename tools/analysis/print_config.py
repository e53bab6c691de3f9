"""Print a config as tools/train.py (or tools/test.py) will run it.

    python tools/analysis/print_config.py CONFIG [--cfg-options KEY=VALUE ...] [--diff]
        [any other option of tools/train.py: --validate --test-last --seed N --amp bf16 ...]
    python tools/analysis/print_config.py --test CONFIG CHECKPOINT --eval top_k_accuracy
        [any other option of tools/test.py]

What is printed is the mmengine Runner config that the tool builds from the same command
line, by the same functions (``mmaction.engine.commands.build_train_config`` /
``build_test_config``): the file read, ``--cfg-options`` (and 0.x's ``--options``) checked
and applied, AIM's (mmaction2 0.x) dialect translated, the engine's defaults filled in, the
command-line flags and this machine's device choices applied. It is valid Python: it loads
again with ``mmengine.Config.fromfile``. What the tool logs while building it is printed
first, as comments. ``--diff`` prints, instead of the config, which keys ``--cfg-options``
changed in the file, then which keys the translation and the command line removed, added or
changed.
"""
import argparse
import contextlib
import logging
import sys
from typing import Any, Dict, Iterator, List, Tuple

from mmengine.config import Config
from mmengine.logging import MMLogger

from mmaction.engine.commands import (
    build_test_config,
    build_train_config,
    parse_test_args,
    parse_train_args,
)
from mmaction.engine.config import apply_cfg_options, read_config
from mmaction.engine.launch import EarlyLogs, run_tool


def _own_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split('\n\n')[0]
    parser.add_argument('--diff', action='store_true',
                        help='print which keys --cfg-options and the translation changed '
                        'instead of the config')
    parser.add_argument('--test', action='store_true',
                        help="the config of tools/test.py's command line (CONFIG CHECKPOINT "
                        '--eval ...) instead of tools/train.py\'s')


def parse_args(argv=None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    parse = parse_test_args if '--test' in argv else parse_train_args
    return parse(argv, extra=_own_arguments)


@contextlib.contextmanager
def captured_logs() -> Iterator[List[str]]:
    """Within the block, what is logged goes into the yielded list (``LEVEL: message``,
    each once) instead of to the console, which gets the config alone."""
    logger = MMLogger.get_current_instance()
    early = EarlyLogs()
    streams = [(h, h.level) for h in logger.handlers if h is not early]
    for handler, _ in streams:
        handler.setLevel(logging.CRITICAL + 1)  # kept by `early`, not printed
    notes: List[str] = []
    try:
        yield notes
    finally:
        for handler, level in streams:
            handler.setLevel(level)
        early.replay(None)
        for record in early.records:
            text = f'{record.levelname}: {record.getMessage()}'
            if text not in notes:
                notes.append(text)


def build(args: argparse.Namespace) -> Tuple[Config, List[str]]:
    """The Runner config of the command line ``args``, built by the tool's own function, and
    what building it logged."""
    with captured_logs() as notes:
        cfg = (build_test_config if args.test else build_train_config)(args)
    return cfg, notes


# ---------------------------------------------------------------------------- --diff
def flatten(node: Any, prefix: str = '') -> Dict[str, Any]:
    """``{'a.b.0.c': leaf}`` of nested dicts and lists (an empty one is a leaf)."""
    if isinstance(node, dict) and node:
        items = node.items()
    elif isinstance(node, (list, tuple)) and node:
        items = enumerate(node)
    else:
        return {prefix: node}
    out = {}
    for key, value in items:
        out.update(flatten(value, f'{prefix}.{key}' if prefix else str(key)))
    return out


def _prefixes(paths) -> set:
    found = set()
    for path in paths:
        parts = path.split('.')
        found.update('.'.join(parts[:i]) for i in range(1, len(parts) + 1))
    return found


def _short(value: Any, width: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + '...'


def diff(before: dict, after: dict) -> List[str]:
    """Lines ``- key`` (removed: the top-most key that went, whole), ``+ key = value``
    (added; a whole new section shown by its key), ``~ key: old -> new`` (changed)."""
    a, b = flatten(before), flatten(after)
    nodes_a, nodes_b = _prefixes(a), _prefixes(b)

    def top_most(path: str, others: set) -> str:
        parts = path.split('.')
        for i in range(1, len(parts) + 1):
            head = '.'.join(parts[:i])
            if head not in others:
                return head
        return path

    lines, seen = [], set()
    for path, value in a.items():
        if path in b:
            if b[path] != value or type(b[path]) is not type(value):
                lines.append(f'~ {path}: {_short(value)} -> {_short(b[path])}')
        elif path in nodes_b:
            lines.append(f'~ {path}: {_short(value)} -> (a section)')
        else:
            head = top_most(path, nodes_b)
            if head not in seen:
                seen.add(head)
                lines.append(f'- {head}')
    for path, value in b.items():
        if path in a:
            continue
        if path in nodes_a:
            lines.append(f'~ {path}: (a section) -> {_short(value)}')
            continue
        head = top_most(path, nodes_a)
        if head in seen:
            continue
        seen.add(head)
        lines.append(f'+ {head} = {_short(value)}' if head == path else f'+ {head}')
    return lines


def main(argv=None):
    args = parse_args(argv)
    cfg, notes = build(args)
    tool = 'tools/test.py' if args.test else 'tools/train.py'
    if args.diff:
        written = read_config(args.config).to_dict()
        with captured_logs():  # build() has the notes of the options already
            with_options = apply_cfg_options(read_config(args.config), args.cfg_options)
        with_options = with_options.to_dict()
        out = [f'# {args.config}: what --cfg-options changed in the file']
        out += diff(written, with_options) or ['(nothing)']
        out += [f'# what the translation and the command line of {tool} changed (the file '
                'with the options -> the config the runner gets)']
        out += diff(with_options, cfg.to_dict()) or ['(nothing)']
        print('\n'.join(out))
        return dict(config=cfg, notes=notes, lines=out)
    print(f'# The config {tool} runs for this command line: {args.config} after '
          '--cfg-options, the translation and the defaults.')
    for note in notes:
        print('# ' + note.replace('\n', '\n# '))
    print(cfg.pretty_text)
    return dict(config=cfg, notes=notes)


if __name__ == '__main__':
    sys.exit(run_tool(main))
