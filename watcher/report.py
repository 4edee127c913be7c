"""Plain-text reports of what a pass found, for people at a terminal."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TextIO

from watcher.check import CheckReport
from watcher.config import Config
from watcher.store import Store
from watcher.terminal import safe


def format_check(report: CheckReport, out: TextIO) -> None:
    for source in report.sources:
        if source.status == "failed":
            out.write(f"{safe(source.name)}: FAILED: {safe(source.error or '')}\n")
            continue
        detail = {
            "not_modified": "not modified since last pass",
            "unchanged": "feed unchanged",
        }.get(source.status)
        line = f"{safe(source.name)}: {len(source.articles)} new article(s)"
        if detail and not source.articles:
            line = f"{safe(source.name)}: nothing new ({detail})"
        out.write(line + "\n")
        if source.feed_problem:
            out.write(f"  warning: {safe(source.feed_problem)}\n")
        for article in source.articles:
            when = article.published.date().isoformat() if article.published else "undated"
            out.write(
                f"  + {safe(article.title or '(untitled)')} [{when}]\n    {safe(article.url)}\n"
            )
        for failure in source.failures:
            retry = "gave up" if failure.gave_up else "will retry"
            out.write(f"  ! {safe(failure.reason)} ({retry})\n")
    failed = len(report.failed_sources)
    out.write(
        f"{report.new_articles} new article(s) from {len(report.sources)} source(s)"
        + (f", {failed} failed" if failed else "")
        + "\n"
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def collect_status(config: Config, store: Store) -> dict[str, Any]:
    """Per-source health, alert counts and the daemon's schedule, from the database."""
    states = {s.name: s for s in store.all_sources()}
    seen = store.items_per_source()
    sources = []
    for source in config.sources:
        state = states.get(source.name)
        sources.append(
            {
                "name": source.name,
                "url": source.url,
                "enabled": source.enabled,
                "interval": source.interval,
                "last_attempt": _iso(state.last_attempt) if state else None,
                "last_success": _iso(state.last_success) if state else None,
                "last_error": state.last_error if state else None,
                "consecutive_failures": state.consecutive_failures if state else 0,
                "items_seen": seen.get(source.name, 0),
            }
        )
    daemon = store.get_meta("daemon")
    alerts = store.alert_counts()
    return {
        "database": config.database_url(),
        "sources": sources,
        "alerts": {"pending": alerts.get("pending", 0), "failed": alerts.get("failed", 0)},
        "daemon": json.loads(daemon) if daemon else None,
    }


def format_status(status: dict[str, Any], out: TextIO) -> None:
    for source in status["sources"]:
        flag = "" if source["enabled"] else " (disabled)"
        out.write(f"{safe(source['name'])}{flag}: {safe(source['url'])}\n")
        out.write(f"  last attempt: {source['last_attempt'] or 'never'}\n")
        out.write(f"  last success: {source['last_success'] or 'never'}\n")
        if source["last_error"]:
            failures = source["consecutive_failures"]
            out.write(f"  last error:   {safe(source['last_error'])} ({failures} in a row)\n")
        out.write(f"  items seen:   {source['items_seen']}\n")
    alerts = status["alerts"]
    out.write(f"alerts: {alerts['pending']} pending, {alerts['failed']} failed\n")
    daemon = status["daemon"]
    if not daemon:
        out.write("daemon: has not run with this database\n")
        return
    state = f"stopped {daemon['stopped']}" if daemon.get("stopped") else f"pid {daemon['pid']}"
    out.write(f"daemon: {state}, started {daemon['started']}, last pass {daemon['last_pass']}\n")
    for job, when in sorted(daemon.get("next_runs", {}).items()):
        out.write(f"  next {job}: {when}\n")
