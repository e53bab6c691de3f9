"""What a command-line tool does with an error that is the user's to fix (a config, a
missing or unfitting file): one message on stderr and exit status 2, without importing more
than this module, so that light tools (the list builders) start fast."""
import os
import sys
from typing import Callable, List, Optional

#: environment variable that makes the tools show tracebacks (as ``--debug`` does)
DEBUG_VARIABLE = 'AIM_DEBUG'

_USER_ERRORS: List[type] = [FileNotFoundError, IsADirectoryError]


def user_error(cls: type) -> type:
    """Class decorator: exceptions of ``cls`` are a user's to fix; :func:`run_tool` reports
    their message, not a traceback. (An error class whose module was never imported cannot
    have been raised, so registering on import misses nothing.)"""
    _USER_ERRORS.append(cls)
    return cls


def user_errors() -> tuple:
    """The exceptions a tool reports as a message. Anything else is a bug and keeps its
    traceback."""
    return tuple(_USER_ERRORS)


def add_debug_argument(parser) -> None:
    """``--debug``: what :func:`run_tool` looks for to show the traceback."""
    parser.add_argument('--debug', action='store_true',
                        help='show the Python traceback of an error instead of its message '
                             f'only (also: {DEBUG_VARIABLE}=1)')


def run_tool(main: Callable, argv: Optional[List[str]] = None) -> int:
    """Run a tool's ``main(argv)``; a user error ends it with one message on stderr and exit
    status 2, unless ``--debug`` is among the arguments or ``AIM_DEBUG`` is set (then the
    traceback shows). Library calls of ``main`` raise the exceptions as they are."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = '--debug' in argv or os.environ.get(DEBUG_VARIABLE, '') not in ('', '0')
    try:
        result = main(argv)
    except user_errors() as err:
        if debug:
            raise
        message = str(err).strip() or type(err).__name__
        print(f'error: {message}\n(add --debug, or set {DEBUG_VARIABLE}=1, to see the '
              'traceback)', file=sys.stderr)
        return 2
    return result if isinstance(result, int) else 0
