"""What ``watcher status --json`` prints and the web API serves at ``/api/status``.

Per-source health and schedule, the outbox's counts, and the workers (every
``watcher run`` that has used the database: its heartbeat, the sources it is
polling now and those it polled last), read from the state database, so it
is the same whichever process asks.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from watcher.config import Config
from watcher.models import AlertState
from watcher.store import Store, aware, db_clock, decoded, display_url, schedule, workers


class WorkerState(StrEnum):
    """What ``watcher status`` says of a worker."""

    RUNNING = "running"
    STOPPED = "stopped"
    # No heartbeat for longer than its lease: killed, or cut off; its sources are free.
    GONE = "gone"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def collect_status(config: Config, store: Store) -> dict[str, Any]:
    """Per-source health, alert counts and the workers, from the database."""
    states = {s.name: s for s in store.all_sources()}
    seen = store.items_per_source()
    fleet, turns = _workers(store)
    names = {w["id"]: w["name"] for w in fleet}
    sources = []
    for source in config.sources:
        state = states.get(source.name)
        due, polling, polled_by = turns.get(source.name, (None, None, None))
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
                "next_poll": due,
                "polling": names.get(polling or "", polling),
                "last_polled_by": names.get(polled_by or "", polled_by),
            }
        )
    alerts = store.alert_counts()
    return {
        "database": display_url(config.database_url()),
        "sources": sources,
        "alerts": {
            state: alerts.get(state, 0)
            for state in (
                AlertState.PENDING,
                AlertState.SENDING,
                AlertState.FAILED,
                AlertState.UNCERTAIN,
            )
        },
        "daemon": _daemon(store, fleet, turns),
        "workers": fleet,
    }


def _workers(
    store: Store,
) -> tuple[list[dict[str, Any]], dict[str, tuple[str | None, str | None, str | None]]]:
    """Every worker, newest heartbeat first, and each source's next turn, the worker
    polling it now and the one that polled it last."""
    with store.engine.connect() as conn:
        now = db_clock(conn)
        rows = conn.execute(select(workers).order_by(workers.c.heartbeat_at.desc())).mappings()
        found = list(rows)
        turns: dict[str, tuple[str | None, str | None, str | None]] = {}
        polling: dict[str, list[str]] = {}
        polled: dict[str, list[str]] = {}
        query = select(
            schedule.c.source,
            schedule.c.due_at,
            schedule.c.worker,
            schedule.c.lease_until,
            schedule.c.last_worker,
        ).order_by(schedule.c.source)
        for source, due, worker, until, last in conn.execute(query):
            live = (
                worker if worker is not None and until is not None and aware(until) >= now else None
            )
            turns[source] = (_iso(aware(due)), live, last)
            if live:
                polling.setdefault(live, []).append(source)
            if last:
                polled.setdefault(last, []).append(source)
    fleet = []
    for row in found:
        heard = aware(row["heartbeat_at"])
        if row["stopped_at"] is not None:
            state = WorkerState.STOPPED
        elif (now - heard).total_seconds() > row["lease_seconds"]:
            state = WorkerState.GONE
        else:
            state = WorkerState.RUNNING
        info = decoded("workers", row["id"], row["info"]) or {}
        fleet.append(
            {
                "id": row["id"],
                "name": row["name"],
                "host": row["host"],
                "pid": row["pid"],
                "state": state,
                "started": _iso(aware(row["started_at"])),
                "heartbeat": heard.isoformat(),
                "stopped": _iso(aware(row["stopped_at"])),
                "lease": row["lease_seconds"],
                "last_pass": info.get("last_pass"),
                "passes": info.get("passes", 0),
                "errors": info.get("errors", 0),
                "web": info.get("web"),
                "next_runs": info.get("next_runs", {}),
                "polling": polling.get(row["id"], []),
                "polled": polled.get(row["id"], []),
            }
        )
    return fleet, turns


def _daemon(
    store: Store,
    fleet: list[dict[str, Any]],
    turns: dict[str, tuple[str | None, str | None, str | None]],
) -> dict[str, Any] | None:
    """The worker heard from last (a running one first), as ``watcher status`` showed the
    one daemon before there could be several; a database's last word from a daemon of
    before then, if none has run since."""
    if not fleet:
        stored = store.get_meta("daemon")
        return decoded("meta", "daemon", stored) if stored else None
    latest = next((w for w in fleet if w["state"] == WorkerState.RUNNING), fleet[0])
    polls = {f"poll:{name}": due for name, (due, _, _) in turns.items()}
    daemon = {
        "pid": latest["pid"],
        "worker": latest["name"],
        "started": latest["started"],
        "updated": latest["heartbeat"],
        "last_pass": latest["last_pass"],
        "passes": latest["passes"],
        "errors": latest["errors"],
        "next_runs": {**latest["next_runs"], **polls},
        "web": latest["web"],
    }
    if latest["stopped"]:
        daemon["stopped"] = latest["stopped"]
    elif latest["state"] == WorkerState.GONE:
        daemon["gone"] = True
    return daemon
