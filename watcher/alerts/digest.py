"""Digests: a period's changes, every tracked fact as it stands, and what is coming.

Times are wall-clock times in the configured zone: a daily digest at 08:00
goes out at 08:00 local time on both sides of a daylight-saving change, and
covers the 23 or 25 hours since the previous one. A digest is keyed by its
channel and the end of its period, so a restarted daemon never sends the
same digest twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from watcher.alerts.outbox import digest_covered, enqueue_digest
from watcher.config import WEEKDAYS, Config, Routing
from watcher.facts import knowledge
from watcher.facts.topic import Topic
from watcher.models import Digest
from watcher.store import Store

# A deadline stays in a digest's "coming up" this many days after it passed (a
# weekly digest still mentions it once), then it is no longer coming up.
PASSED_DEADLINE_DAYS = 7


def _wall(day: datetime, routing: Routing, zone: ZoneInfo) -> datetime:
    return datetime.combine(day.date(), routing.digest_at, tzinfo=zone)


def last_due(routing: Routing, now: datetime, zone: ZoneInfo) -> datetime:
    """The latest scheduled digest time at or before ``now``, in ``zone``."""
    local = now.astimezone(zone)
    due = _wall(local, routing, zone)
    if routing.digest == "weekly":
        due -= timedelta(days=(local.weekday() - WEEKDAYS.index(routing.digest_day)) % 7)
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    # Aware datetimes sharing a tzinfo compare as wall times; compare instants.
    while due.astimezone(UTC) > now.astimezone(UTC):
        due = _wall(due - step, routing, zone)
    return due


def period_start(routing: Routing, end: datetime) -> datetime:
    """The previous scheduled time: one (or seven) calendar days earlier on the wall clock."""
    return end - timedelta(days=7 if routing.digest == "weekly" else 1)


def build_digest(
    store: Store, topic: Topic, *, start: datetime, end: datetime, title: str
) -> Digest:
    known = knowledge.load(store)
    return Digest(
        title=title,
        period_start=start,
        period_end=end,
        changes=tuple(knowledge.stored_changes(store, topic, since=start, until=end)),
        facts=tuple(knowledge.current_facts(known, topic)),
        outlook=tuple(
            knowledge.deadline_outlook(known, topic, end.date(), passed_within=PASSED_DEADLINE_DAYS)
        ),
    )


def digest_title(topic: Topic, routing: Routing, end: datetime) -> str:
    rhythm = "weekly" if routing.digest == "weekly" else "daily"
    return f"{topic.title}: {rhythm} digest, {end:%Y-%m-%d}"


def digest_for(
    config: Config,
    store: Store,
    topic: Topic,
    routing: Routing,
    *,
    end: datetime,
) -> Digest:
    """The digest a channel gets for the period ending at ``end``."""
    end = end.astimezone(ZoneInfo(config.notify.timezone))
    return build_digest(
        store,
        topic,
        start=period_start(routing, end),
        end=end,
        title=digest_title(topic, routing, end),
    )


def queue_digest(
    config: Config,
    store: Store,
    topic: Topic,
    channel: str,
    *,
    end: datetime,
    force: bool = False,
) -> Digest | None:
    """Put a channel's digest in the outbox; None when it is empty and empty digests are
    off, or when a digest sent on request (``watcher digest --send``) already covered
    the period.

    Queuing the same channel and period twice is harmless: it is sent once.
    """
    routing = config.notify.channels()[channel]
    if not force and digest_covered(store, channel, end.astimezone(UTC)):
        return None
    digest = digest_for(config, store, topic, routing, end=end)
    if not digest.changes and not routing.empty_digest and not force:
        return None
    with store.transaction() as conn:
        enqueue_digest(conn, digest, channel, at=end.astimezone(UTC))
    return digest
