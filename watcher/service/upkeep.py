"""What is due besides polling: digests whose time has come, and the daily prune (old
article text, and workers gone for a week).

The daemon runs these on its schedule; ``watcher check`` runs them after its
pass, so a one-shot check on a timer sends digests and prunes too. Both are
safe to run often and from several processes: a digest is keyed by its
channel and period, and the last prune is remembered in the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from watcher.alerts.digest import last_due, queue_digest
from watcher.config import Config
from watcher.facts.stories import Story
from watcher.service.leases import forget_workers
from watcher.store import Store

# A digest missed by this much (the daemon was down, the timer had not run) is
# still sent; one missed by more is skipped rather than sent hours late.
DIGEST_GRACE = 6 * 3600
PRUNE_EVERY = timedelta(days=1)
# Workers not heard from for this long are no longer listed (each restart is a new one).
WORKERS_KEPT = timedelta(days=7)
LAST_PRUNE = "last_prune"


def due_digests(config: Config, now: datetime) -> dict[str, datetime]:
    """Channels whose digest time came within the grace, with the end of that period."""
    zone = ZoneInfo(config.notify.timezone)
    due = {}
    for name, routing in config.notify.channels().items():
        if routing.digest == "none":
            continue
        end = last_due(routing, now, zone)
        if (now - end).total_seconds() <= DIGEST_GRACE:
            due[name] = end
    return due


def queue_due_digests(
    config: Config, store: Store, stories: list[Story], now: datetime
) -> list[str]:
    """Queue each due digest (once per channel, story and period); the channels that got
    one."""
    return [
        channel
        for channel, end in due_digests(config, now).items()
        if queue_digest(config, store, stories, channel, end=end)
    ]


def prune_if_due(config: Config, store: Store, now: datetime) -> dict[str, int] | None:
    """Prune what is older than ``state.retention`` if a day has passed since the last
    prune; what was removed, or None when it was not due."""
    last = store.get_meta(LAST_PRUNE)
    if last is not None and now - datetime.fromisoformat(last) < PRUNE_EVERY:
        return None
    removed = store.prune(now - timedelta(seconds=config.state.retention))
    forget_workers(store, now - WORKERS_KEPT)
    store.set_meta(LAST_PRUNE, now.isoformat())
    return removed
