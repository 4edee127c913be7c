"""``watcher run``, ``watcher serve`` and ``watcher status``: the daemon, the web view, and
what they and the sources are doing.
"""

from __future__ import annotations

import argparse
import logging
import signal
from typing import TextIO

from watcher.cli.main import EXIT_OK, CommandError
from watcher.cli.report import format_status
from watcher.cli.shared import config_stories, open_state, print_json
from watcher.config import DEFAULT_LISTEN, Config, parse_listen
from watcher.logs import setup_logging
from watcher.status import collect_status


def cmd_run(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.service.daemon import run_service

    if not hasattr(signal, "sigtimedwait"):
        raise CommandError(
            "run: the daemon needs Linux (it takes signals with sigtimedwait); "
            "on this system run `watcher check` on a schedule instead"
        )
    setup_logging(verbose=args.verbose, style=args.log_format, default=logging.INFO)
    return run_service(args.config, name=args.name)


def cmd_serve(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.web.server import WebError, start_web, stop_signals_blocked, wait_for_stop

    listen = args.listen or config.web.listen or DEFAULT_LISTEN
    try:
        parse_listen(listen)
    except ValueError as exc:
        raise CommandError(f"--listen: {exc}") from None
    stories = config_stories(config)
    store = open_state(config)
    try:
        # The server's thread must not take SIGINT or SIGTERM: this one waits for them.
        with stop_signals_blocked():
            try:
                server = start_web(config, store, stories, listen=listen)
            except WebError as exc:
                raise CommandError(str(exc)) from None
            out.write(f"watcher: serving {server.url} (read-only; Ctrl-C to stop)\n")
            out.flush()
            wait_for_stop(server)
    finally:
        store.close()
    return EXIT_OK


def cmd_status(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    store = open_state(config, read_only=True)
    try:
        status = collect_status(config, store)
    finally:
        store.close()
    if args.json:
        print_json(status, out)
    else:
        format_status(status, out)
    return EXIT_OK
