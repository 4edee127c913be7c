"""Digests: a period's changes, every tracked fact as it stands, and what is coming.

Times are wall-clock times in the configured zone: a daily digest at 08:00
goes out at 08:00 local time on both sides of a daylight-saving change, and
covers the 23 or 25 hours since the previous one. A digest is keyed by its
channel and the end of its period (and its story, when the config names
several), so a restarted daemon never sends the same digest twice. A
channel gets one digest per story it hears.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from watcher.alerts.outbox import digest_covered, enqueue_digest
from watcher.config import WEEKDAYS, Config, Routing
from watcher.facts import knowledge
from watcher.facts.stories import Story
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
    store: Store, story: Story, *, start: datetime, end: datetime, title: str
) -> Digest:
    known = knowledge.load(store, story.name)
    topic = story.topic
    return Digest(
        title=title,
        period_start=start,
        period_end=end,
        changes=tuple(
            knowledge.stored_changes(store, story, since=start, until=end, rejected=False)
        ),
        facts=tuple(knowledge.current_facts(known, topic)),
        outlook=tuple(
            knowledge.deadline_outlook(known, topic, end.date(), passed_within=PASSED_DEADLINE_DAYS)
        ),
        story=story.name,
        story_title=story.title,
    )


def digest_title(story: Story, routing: Routing, end: datetime) -> str:
    rhythm = "weekly" if routing.digest == "weekly" else "daily"
    return f"{story.title}: {rhythm} digest, {end:%Y-%m-%d}"


def digest_for(
    config: Config,
    store: Store,
    story: Story,
    routing: Routing,
    *,
    end: datetime,
) -> Digest:
    """The digest of a story a channel gets for the period ending at ``end``."""
    end = end.astimezone(ZoneInfo(config.notify.timezone))
    return build_digest(
        store,
        story,
        start=period_start(routing, end),
        end=end,
        title=digest_title(story, routing, end),
    )


def queue_digest(
    config: Config,
    store: Store,
    stories: list[Story],
    channel: str,
    *,
    end: datetime,
    force: bool = False,
) -> list[Digest]:
    """Put a channel's digest of each story it hears in the outbox; a story's digest is
    left out when it is empty and empty digests are off, or when a digest sent on
    request (``watcher digest --send``) already covered the period.

    Queuing the same channel and period twice is harmless: it is sent once.
    """
    routing = config.notify.channels()[channel]
    if not force and digest_covered(store, channel, end.astimezone(UTC)):
        return []
    queued = []
    for story in stories:
        if not story.hears(channel):
            continue
        digest = digest_for(config, store, story, routing, end=end)
        if not digest.changes and not routing.empty_digest and not force:
            continue
        with store.transaction() as conn:
            part = None if story.implicit else story.name
            enqueue_digest(conn, digest, channel, at=end.astimezone(UTC), story=part)
        queued.append(digest)
    return queued
