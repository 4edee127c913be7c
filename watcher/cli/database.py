"""``watcher gc`` and ``watcher db``: pruning the state database and upgrading its schema."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any, TextIO

from watcher.cli.main import EXIT_OK
from watcher.cli.shared import open_state, print_json
from watcher.config import Config
from watcher.store import display_url, open_store, utcnow


def cmd_gc(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    before = utcnow() - timedelta(seconds=config.state.retention)
    store = open_state(config)
    try:
        removed = store.prune(before)
        if args.vacuum:
            store.vacuum()
    finally:
        store.close()
    if args.json:
        print_json({"before": before.isoformat(), "removed": removed}, out)
    else:
        counts = ", ".join(f"{count} {table}" for table, count in removed.items())
        out.write(f"removed what was older than {before:%Y-%m-%d %H:%M} UTC: {counts}\n")
    return EXIT_OK


def cmd_db(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """`db upgrade`: bring the schema (any backend) to this watcher's; says from which to which."""
    url = config.database_url()
    store = open_store(url, upgrade=True)
    try:
        before, after = store.upgraded
    finally:
        store.close()
    report: dict[str, Any] = {"database": display_url(url), "from": before, "to": after}
    if args.json:
        print_json(report, out)
    elif before == after:
        out.write(f"{report['database']}: schema {after}, nothing to do\n")
    elif before == 0:
        out.write(f"{report['database']}: created at schema {after}\n")
    else:
        out.write(f"{report['database']}: upgraded from schema {before} to {after}\n")
    return EXIT_OK
