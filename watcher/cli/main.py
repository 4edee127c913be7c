"""The ``watcher`` command: a thin skin over the library.

Exit codes follow diff: 0 nothing changed, 1 changes found, 2 trouble.
Every command that reports takes ``--json``.

This module runs one command: the arguments are parsed by
:mod:`watcher.cli.parser`, and the command's module (:mod:`watcher.cli.check`,
:mod:`~watcher.cli.facts`, :mod:`~watcher.cli.alerts`, :mod:`~watcher.cli.service`,
:mod:`~watcher.cli.database`, :mod:`~watcher.cli.story`, :mod:`~watcher.cli.demo`,
:mod:`~watcher.cli.sources`) is imported once they are known, so that
``watcher --version`` answers without loading the rest.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from watcher import __version__
from watcher.cli.parser import build_parser

if TYPE_CHECKING:
    from watcher.config import Config

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
# The reader of our output went away (`watcher status | head -3`): the status a
# program killed by SIGPIPE has in a shell.
EXIT_BROKEN_PIPE = 128 + 13


class CommandError(Exception):
    """A failure to report in one line and exit 2."""


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a file (captured in tests)
        pass


def _load_optional(path: str | None, *, check_stories: bool = True) -> Config | None:
    from watcher.config import ConfigError, load_config

    try:
        return load_config(path, check_stories=check_stories)
    except ConfigError:
        if path:
            raise
        return None


Handler = Callable[[argparse.Namespace, Any, TextIO], int]


def _command(name: str) -> Handler:
    """The handler ``"module.function"`` names in watcher.cli, its module imported now."""
    module, _, function = name.rpartition(".")
    handler: Handler = getattr(importlib.import_module(f"watcher.cli.{module}"), function)
    return handler


def _error(message: str) -> int:
    print(f"watcher: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; every failure is one line on stderr and exit status 2.

    Exit 1 means "changes found", so nothing unplanned may end with it: an
    error nobody foresaw is reported as an internal error, with its
    traceback only under -v.
    """
    out = out or sys.stdout
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        # Answered before the parser is built: the sources commands' parsers import
        # the config, the fetcher and the store.
        out.write(f"watcher {__version__}\n")
        return EXIT_OK
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo" and args.config is not None:
        parser.error("demo: --config: the demo serves its own sample feeds with its own config")
    from watcher.cli.sources import SourcesError
    from watcher.config import ConfigError, load_config
    from watcher.facts.baseline import BaselineError
    from watcher.facts.stories import StoryError
    from watcher.logs import setup_logging
    from watcher.store import StoreError

    try:
        setup_logging(verbose=args.verbose)
        # The sources commands' handlers are functions of their own module.
        handler = args.handler if callable(args.handler) else _command(args.handler)
        if args.command == "story":
            # story check reports every problem of the stories' files itself.
            config = _load_optional(args.config, check_stories=False)
        else:
            config = load_config(args.config) if args.needs_config else _load_optional(args.config)
        code = handler(args, config, out)
        out.flush()
        return code
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except ConfigError as exc:
        # One line for each mistake in the file: all of them, not just the first.
        for mistake in str(exc).splitlines()[:-1]:
            _error(mistake)
        return _error(str(exc).splitlines()[-1] if str(exc) else "")
    except (StoreError, CommandError, BaselineError, StoryError, SourcesError) as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        print("watcher: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if args.verbose:
            traceback.print_exc()
            return _error(f"internal error: {detail}")
        return _error(f"internal error: {detail} (run with -v for the traceback)")


def console() -> NoReturn:
    """The ``watcher`` program: one command, then exit with its status.

    The objects the command leaves (the classes and tables of SQLAlchemy,
    pydantic and watcher, tens of thousands) are frozen first, so that the
    interpreter's last collection at exit does not walk them all: 100 ms of a
    warm check's 0.7 s. Finalizers and atexit handlers still run.
    """
    code = main()
    gc.freeze()
    sys.exit(code)
