"""Every read the web view makes of the state database, in one place.

Pages and the API call these small functions and never query tables
themselves, so a change of schema (several stories, PostgreSQL) is met here.
Nothing here writes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from watcher.alerts.outbox import Outbox, OutgoingAlert
from watcher.config import Config
from watcher.counters import PassDurations, Total, read_totals
from watcher.facts import knowledge
from watcher.facts.known import Knowledge
from watcher.facts.stories import Story
from watcher.models import AlertKind, FactChange
from watcher.status import collect_status
from watcher.store import (
    ItemState,
    SourceState,
    Store,
    StoredCorrection,
    alerts,
    aware,
    decode_data,
    items,
)


def known(store: Store, story: Story) -> Knowledge:
    """What is known of a story now: the stored knowledge over the baseline, as a pass
    would leave it.

    A fact still only in the baseline (nothing stored yet, a fresh database)
    comes from the baseline, so the page shows the seeds' facts before the
    first pass, and nothing is written to get there.
    """
    stored = knowledge.load(store, story.name)
    return Knowledge({**story.baseline.facts, **stored.facts})


def changes(
    store: Store, stories: list[Story], *, key: str | None = None, story: str | None = None
) -> list[FactChange]:
    """Changes of every story, oldest first; only those of fact ``key`` and of ``story``
    when given."""
    found = [
        change
        for followed in stories
        if story is None or followed.name == story
        for change in knowledge.stored_changes(store, followed)
    ]
    found.sort(key=lambda c: (c.first_seen, c.change_id))
    return [c for c in found if key is None or c.key == key]


def corrections(store: Store, story: str) -> list[StoredCorrection]:
    """What people (and the config's pins) set, rejected and undid in a story."""
    return store.corrections(story=story)


@dataclass(frozen=True)
class AlertRow:
    """Where one alert about a change went, and how it fared."""

    id: int
    channel: str
    announced: str  # what the alert said of the change: reported, or confirmed
    state: str
    attempts: int
    next_attempt: datetime
    sent_at: datetime | None
    last_error: str | None


def alerts_by_change(store: Store, change_ids: list[int]) -> dict[int, list[AlertRow]]:
    """The alerts each change caused, by change id, oldest first."""
    found: dict[int, list[AlertRow]] = {change_id: [] for change_id in change_ids}
    if not change_ids:
        return found
    query = (
        select(alerts)
        .where(alerts.c.kind == AlertKind.CHANGE, alerts.c.change_id.in_(change_ids))
        .order_by(alerts.c.id)
    )
    with store.engine.connect() as conn:
        for row in conn.execute(query).mappings():
            payload = decode_data("alerts", row["id"], row["payload"]) or {}
            found[row["change_id"]].append(
                AlertRow(
                    id=row["id"],
                    channel=row["channel"],
                    announced=payload.get("status", ""),
                    state=row["state"],
                    attempts=row["attempts"],
                    next_attempt=aware(row["next_attempt"]),
                    sent_at=aware(row["sent_at"]),
                    last_error=row["last_error"],
                )
            )
    return found


def status(config: Config, store: Store) -> dict[str, Any]:
    """What ``watcher status --json`` prints."""
    return collect_status(config, store)


@dataclass(frozen=True)
class ItemCounts:
    """A source's feed items by what became of their article."""

    seen: int = 0
    read: int = 0  # article fetched and read
    waiting: int = 0  # not fetched yet
    retrying: int = 0  # failed, will be tried again
    failed: int = 0  # failed articles.max_attempts times: given up
    skipped: int = 0  # no link, or not about the story: no article to fetch


def item_counts(store: Store) -> dict[str, ItemCounts]:
    """Per source, what became of its items' articles."""
    state, link, attempts = items.c.state, items.c.link, items.c.attempts

    def how_many(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    query = select(
        items.c.source,
        func.count(),
        how_many((state == ItemState.DONE) & link.is_not(None)),
        how_many((state == ItemState.PENDING) & (attempts == 0)),
        how_many((state == ItemState.PENDING) & (attempts > 0)),
        how_many(state == ItemState.FAILED),
        how_many(link.is_(None) | (state == ItemState.UNRELATED)),
    ).group_by(items.c.source)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return {source: ItemCounts(*(int(n or 0) for n in numbers)) for source, *numbers in rows}


def source_states(store: Store) -> dict[str, SourceState]:
    """Per source polled at least once: last attempt, success and error, and its health."""
    return {state.name: state for state in store.all_sources()}


def open_alerts(config: Config, store: Store) -> list[OutgoingAlert]:
    """Alerts pending, being sent, failed or uncertain: what ``watcher outbox`` lists."""
    notify = config.notify
    outbox = Outbox(
        store,
        max_attempts=notify.max_attempts,
        backoff=notify.retry_backoff,
        backoff_max=notify.retry_max,
    )
    return outbox.listing()


def alert_totals(store: Store) -> Counter[tuple[str, str]]:
    """Alerts in the outbox by (channel, state), sent ones included."""
    query = select(alerts.c.channel, alerts.c.state, func.count()).group_by(
        alerts.c.channel, alerts.c.state
    )
    with store.engine.connect() as conn:
        return Counter({(channel, state): n for channel, state, n in conn.execute(query)})


def totals(store: Store) -> tuple[list[Total], PassDurations]:
    """The running totals behind the metrics, and the pass-duration histogram."""
    return read_totals(store)
