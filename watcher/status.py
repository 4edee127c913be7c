"""What ``watcher status --json`` prints and the web API serves at ``/api/status``.

Per-source health, the outbox's counts and the daemon's schedule, read from
the state database, so it is the same whichever process asks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from watcher.config import Config
from watcher.store import Store, decoded, display_url


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
        "database": display_url(config.database_url()),
        "sources": sources,
        "alerts": {
            state: alerts.get(state, 0) for state in ("pending", "sending", "failed", "uncertain")
        },
        "daemon": decoded("meta", "daemon", daemon) if daemon else None,
    }
