"""The ``watcher`` command: a thin skin over the library.

Exit codes follow diff: 0 nothing changed, 1 changes found, 2 trouble.
Every command that reports takes ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from watcher import __version__
from watcher.check import run_check
from watcher.config import Config, ConfigError, load_config
from watcher.extract import ExtractError, as_datetime, extract_file, extract_html
from watcher.fetch import Fetcher, FetchError, FetchResult
from watcher.logs import setup_logging
from watcher.models import Article
from watcher.report import collect_status, format_check, format_status
from watcher.store import Store, StoreError, open_store
from watcher.terminal import ProgressLine, safe

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2


class CommandError(Exception):
    """A failure to report in one line and exit 2."""


def _print_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")


# -- check -------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    if not config.enabled_sources():
        raise CommandError(f"{config.path}: sources: no enabled source to check")
    store = _store(config)
    progress = ProgressLine("fetching articles") if sys.stderr.isatty() and not args.json else None
    try:
        report = run_check(config, store, progress=progress)
    finally:
        if progress:
            progress.close()
        store.close()
    if args.json:
        _print_json(report.to_json(), out)
    else:
        format_check(report, out)
    if report.sources and len(report.failed_sources) == len(report.sources):
        return EXIT_ERROR
    return EXIT_CHANGES if report.new_articles else EXIT_OK


# -- extract -----------------------------------------------------------------


def _extract_url(url: str, config: Config) -> Article:
    async def fetch() -> FetchResult:
        async with Fetcher(config.http) as fetcher:
            return await fetcher.get(url)

    try:
        result = asyncio.run(fetch())
    except FetchError as exc:
        raise CommandError(str(exc)) from None
    return extract_html(result.content, result.url)


def cmd_extract(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
    target: str = args.target
    published = args.published
    try:
        if target.startswith(("http://", "https://")):
            if config is None:
                raise CommandError("fetching a URL needs a config (give --config PATH)")
            article = _extract_url(target, config)
            if published:
                article = replace(article, published=as_datetime(published))
        else:
            article = extract_file(Path(target), published=published)
    except ExtractError as exc:
        raise CommandError(f"{target}: {exc}") from None
    if args.json:
        _print_json({"article": article.to_json(), "facts": []}, out)
        return EXIT_OK
    out.write(f"title:     {safe(article.title or '(none)')}\n")
    out.write(f"published: {article.published.isoformat() if article.published else '(unknown)'}\n")
    out.write(f"url:       {safe(article.url)}\n")
    if article.canonical_url:
        out.write(f"canonical: {safe(article.canonical_url)}\n")
    out.write("\n" + safe(article.text, keep_newlines=True) + "\n")
    return EXIT_OK


# -- run and status ------------------------------------------------------------


def cmd_run(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.service import run_service

    setup_logging(verbose=args.verbose, style=args.log_format, default=logging.INFO)
    return run_service(args.config)


def cmd_status(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    store = _store(config)
    try:
        status = collect_status(config, store)
    finally:
        store.close()
    if args.json:
        _print_json(status, out)
    else:
        format_status(status, out)
    return EXIT_OK


# -- demo --------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
    from watcher.demo import run_demo

    return run_demo(out, as_json=args.json)


# -- plumbing ----------------------------------------------------------------


def _store(config: Config) -> Store:
    return open_store(config.database_url())


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $WATCHER_CONFIG, else config/watcher.toml, "
        "else the user's config directory)",
    )
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    common.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")

    parser = argparse.ArgumentParser(
        prog="watcher",
        description="Watch news feeds about a developing story and report when a fact "
        "changes, with the quote and the link that show it.",
        epilog="Try `watcher demo` for an offline run against bundled sample feeds.",
    )
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        parents=[common],
        help="poll every enabled source once and report what is new",
        description="Poll every enabled source once: fetch new feed items, extract their "
        "articles, store them, and report. Exit status: 0 nothing new, 1 something new, "
        "2 error (bad config, or every source failed).",
    )
    check.set_defaults(handler=cmd_check, needs_config=True)

    extract = commands.add_parser(
        "extract",
        parents=[common],
        help="show the text and metadata extracted from one file or URL",
        description="Extract one article, from a local file (HTML or plain text) or a URL, "
        "and show its text and metadata. Nothing is stored.",
    )
    extract.add_argument("target", metavar="FILE|URL")
    extract.add_argument(
        "--published", type=_date, metavar="DATE", help="the article's publication date"
    )
    extract.set_defaults(handler=cmd_extract, needs_config=False)

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="run offline against bundled sample feeds served on 127.0.0.1",
        description="Serve the bundled sample feeds and articles on 127.0.0.1, run checks "
        "against them with a throw-away state database, and show the results.",
    )
    demo.set_defaults(handler=cmd_demo, needs_config=False)

    run = commands.add_parser(
        "run",
        parents=[common],
        help="run as a daemon: poll each source on its own schedule",
        description="Run in the foreground, polling each enabled source at its interval "
        "(with jitter, never two polls of one source at once). SIGTERM or SIGINT stops "
        "cleanly; SIGHUP reloads the config, keeping the old one if the new one is invalid. "
        "Under systemd (Type=notify) it reports readiness, status and watchdog pings.",
    )
    run.add_argument(
        "--log-format",
        choices=["auto", "text", "json"],
        default="auto",
        help="auto: journal-style under systemd, text with timestamps otherwise",
    )
    run.set_defaults(handler=cmd_run, needs_config=True)

    status = commands.add_parser(
        "status",
        parents=[common],
        help="show each source's last poll, errors, and the daemon's schedule",
        description="Read the state database (safe while the daemon runs) and show, per "
        "source, the last attempt, last success, last error and items seen, and the "
        "daemon's last pass and next scheduled polls.",
    )
    status.set_defaults(handler=cmd_status, needs_config=True)
    return parser


def _load_optional(path: str | None) -> Config | None:
    try:
        return load_config(path)
    except ConfigError:
        if path:
            raise
        return None


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    setup_logging(verbose=args.verbose)
    handler: Callable[[argparse.Namespace, Any, TextIO], int] = args.handler
    try:
        config = load_config(args.config) if args.needs_config else _load_optional(args.config)
        return handler(args, config, out)
    except (ConfigError, StoreError, CommandError) as exc:
        print(f"watcher: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("watcher: interrupted", file=sys.stderr)
        return 130
