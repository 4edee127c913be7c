"""What watcher knows, per story, kept in the state database: the baseline, then every
accepted change.

The baseline is derived from the seeds (and the pins in config) and written
on first use. When the seeds, pins or topic change, facts that still come
from the baseline are replaced; facts that moved since (origin
``observed``) are never overwritten by a baseline.

A person can correct a story (watcher.facts.corrections): a value set by
hand, or pinned in the config, holds from its date until a later article
reports a further change; a rejected change's observations no longer count.
Both are folded in with the observations, so knowledge is always what the
baseline, the observations and the corrections give, in date order.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from watcher.facts.baseline import normalise_pin
from watcher.facts.compare import Policy
from watcher.facts.dates import Precision
from watcher.facts.fold import RecordedChange, fold, knowledge_of
from watcher.facts.known import (
    Change,
    Knowledge,
    KnownFact,
    Origin,
    describe,
    iso_day,
)
from watcher.facts.stories import Story, policy_of
from watcher.facts.topic import Topic
from watcher.models import CurrentFact, Evidence, FactChange, FactKind
from watcher.store import LEGACY_STORY, CorrectionKind, Store

log = logging.getLogger(__name__)

# Meta key prefix (+ a story): the fingerprint of the baseline installed for it.
BASELINE_META = "baseline:"
# Who changed a pin: the config, not a person.
CONFIG = "config"

# Folding lives in fold.py; the service folds through this module, as it always has.
__all__ = ["RecordedChange", "fold", "policy_of"]


def _fingerprint(baseline: Knowledge) -> str:
    text = json.dumps(baseline.to_json(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _with_baseline(
    stored: dict[str, dict[str, Any]], baseline: Knowledge
) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """What installing ``baseline`` over ``stored`` changes: keys to forget, facts to save.

    Facts that still come from a baseline are replaced; facts that moved since
    (origin ``observed``) or that a person set are kept.
    """
    kept = (Origin.OBSERVED, Origin.SET)
    from_baseline = {k for k, v in stored.items() if v.get("origin") not in kept}
    save = {
        key: fact.to_json()
        for key, fact in baseline.facts.items()
        if key not in stored or key in from_baseline
    }
    return from_baseline - set(baseline.facts), save


def install_stories(
    store: Store, stories: list[Story], *, at: datetime, policy: Policy | None = None
) -> None:
    """Install every story's baseline; the first story adopts what a database from
    before stories holds."""
    for number, story in enumerate(stories):
        install_baseline(store, story, at=at, adopt=number == 0, policy=policy)


def install_baseline(
    store: Store,
    story: Story,
    *,
    at: datetime,
    adopt: bool = False,
    policy: Policy | None = None,
) -> bool:
    """Write a story's baseline unless this one is already in place, and record its
    pins; with ``adopt``, take over what a database from before stories holds. True if
    anything was written.

    Nearly always nothing is: that is judged on a plain read, and only a new baseline
    (or a database to adopt) takes the write lock, and is judged again under it.
    """
    fingerprint = _fingerprint(story.baseline)
    meta = BASELINE_META + story.name
    if store.get_meta(meta) == fingerprint and not (adopt and store.holds_legacy()):
        return False
    with store.transaction() as conn:
        adopted = adopt and store.adopt_legacy(conn, story.name)
        if adopted:
            log.info("state database: what it held from before stories is story %s's", story.name)
        if store.read_meta(conn, meta) == fingerprint:
            return adopted
        forget, save = _with_baseline(store.read_knowledge(conn, story.name), story.baseline)
        store.forget_knowledge(conn, story.name, forget)
        store.save_knowledge(conn, story.name, save, at=at)
        moved = _record_pins(conn, story, at=at)
        if moved:
            fold(conn, story, [], policy=policy, at=at, refold=moved)
        store.put_meta(conn, meta, fingerprint)
    return True


def _record_pins(conn: Connection, story: Story, *, at: datetime) -> set[str]:
    """Record the story's pins in the database as corrections; returns the keys whose
    pin is new, changed or gone. A pin with no ``as_of`` holds from the day it was
    first recorded."""
    active = {
        c.key: c
        for c in Store.read_corrections(conn, story=story.name, active=True)
        if c.kind == CorrectionKind.PIN
    }
    moved = set()
    for key, pin in story.pins.items():
        value, qualifier, as_of = normalise_pin(key, pin, story.topic)
        given = {"value": value, "qualifier": qualifier, "pinned_as_of": iso_day(as_of)}
        earlier = active.pop(key, None)
        if earlier is not None and {k: earlier.data.get(k) for k in given} == given:
            continue
        if earlier is not None:
            Store.undo_correction(conn, earlier.id, by=CONFIG, at=at)
        Store.add_correction(
            conn,
            story=story.name,
            kind=CorrectionKind.PIN,
            key=key,
            data={**given, "as_of": (as_of or at.date()).isoformat()},
            by=CONFIG,
            why="pinned in the config",
            at=at,
        )
        moved.add(key)
    for key, gone in active.items():
        Store.undo_correction(conn, gone.id, by=CONFIG, at=at)
        moved.add(key)
    return moved


def current(store: Store, story: Story, *, first: bool = False) -> Knowledge:
    """What is known of a story, as :func:`install_baseline` then :func:`load` give it,
    writing nothing. The ``first`` story sees what a database from before stories
    holds, as it would once it took it over."""
    stored = store.load_knowledge(story.name)
    if first:
        stored = store.load_knowledge(LEGACY_STORY) | stored
    if store.get_meta(BASELINE_META + story.name) != _fingerprint(story.baseline):
        forget, save = _with_baseline(stored, story.baseline)
        stored = {k: v for k, v in stored.items() if k not in forget} | save
    return knowledge_of(stored)


def read(conn: Connection, story: str) -> Knowledge:
    return knowledge_of(Store.read_knowledge(conn, story))


def load(store: Store, story: str) -> Knowledge:
    return knowledge_of(store.load_knowledge(story))


def label_of(topic: Topic, key: str) -> str:
    try:
        return topic.fact(key).label
    except KeyError:
        return key


def present(
    change: Change,
    change_id: int,
    first_seen: datetime,
    topic: Topic,
    story: str | None = None,
    status: str | None = None,
) -> FactChange:
    """A change as people read it: labels and described values, and its story's title."""
    return FactChange(
        story=story,
        story_title=topic.title if story else None,
        change_id=change_id,
        key=change.key,
        label=label_of(topic, change.key),
        change_type=change.change_type,
        old=describe(change.kind, change.old.value, change.old.qualifier) if change.old else None,
        new=describe(change.kind, change.new.value, change.new.qualifier),
        status=status or change.status,
        first_seen=first_seen,
        evidence=change.evidence,
        as_of=change.new.as_of,
        old_value=change.old.value if change.old else None,
        new_value=change.new.value,
        old_qualifier=change.old.qualifier if change.old else None,
        new_qualifier=change.new.qualifier,
        revision=change.revision,
        revised_from=change.revised_from,
    )


def stored_changes(
    store: Store,
    story: Story,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    rejected: bool = True,
) -> list[FactChange]:
    """A story's changes from the database, ready to show, oldest first; rejected ones
    too, unless ``rejected`` is false.

    ``since`` and ``until`` may be in any zone (a digest's period is in the
    configured one); the database holds UTC and SQLite compares the stored
    text, so they are turned to UTC first.
    """
    rows = store.list_changes(
        story=story.name,
        since=since.astimezone(UTC) if since else None,
        until=until.astimezone(UTC) if until else None,
        rejected=rejected,
    )
    changes = []
    for row in rows:
        try:
            change = Change.from_json(row)
        except (KeyError, TypeError, ValueError) as exc:
            log.error(
                "state database: changes row %r is damaged and was skipped (%r)", row["id"], exc
            )
            continue
        first_seen = datetime.fromisoformat(row["first_seen"])
        changes.append(
            present(change, row["id"], first_seen, story.topic, story.name, row["status"])
        )
    return changes


def setting_evidence(fact: KnownFact) -> Evidence | None:
    """The source a fact's value and its "as of" date come from.

    The first source set the value; a baseline fact holds as of its latest
    seed, so a source published on that day is the one to show.
    """
    dated = [e for e in fact.sources if e.published is not None and e.published == fact.as_of]
    return dated[0] if dated else (fact.sources[0] if fact.sources else None)


def current_facts(knowledge: Knowledge, topic: Topic) -> list[CurrentFact]:
    """Every tracked fact of the topic with its value, "as of" date and the source of both."""
    facts = []
    for fact in topic.facts:
        known = knowledge.get(fact.key)
        if known is None:
            facts.append(CurrentFact(fact.key, fact.label, None, None, None))
            continue
        facts.append(
            CurrentFact(
                key=fact.key,
                label=fact.label,
                value=describe(known.kind, known.value, known.qualifier),
                as_of=known.as_of,
                source=setting_evidence(known),
            )
        )
    return facts


def deadline_outlook(
    knowledge: Knowledge, topic: Topic, today: date, *, passed_within: int | None = None
) -> list[str]:
    """Days left to each date the topic tracks, or that it passed and what was reported
    since; with ``passed_within``, a date passed longer ago than that many days is left out.
    """
    lines = []
    for fact in topic.facts:
        known = knowledge.get(fact.key)
        if (
            fact.kind != FactKind.DATE
            or known is None
            or known.qualifier not in (None, Precision.EXACT)
        ):
            continue
        day = date.fromisoformat(str(known.value))
        left = (day - today).days
        if left > 0:
            days = "1 day" if left == 1 else f"{left} days"
            lines.append(f"{fact.label}: {day.isoformat()}, {days} left")
        elif left == 0:
            lines.append(f"{fact.label}: {day.isoformat()}, today")
        elif passed_within is None or -left <= passed_within:
            days = "1 day" if left == -1 else f"{-left} days"
            lines.append(
                f"{fact.label}: {day.isoformat()}, passed {days} ago"
                + _reported_since(knowledge, topic)
            )
    return lines


def _reported_since(knowledge: Knowledge, topic: Topic) -> str:
    """What moved since the baseline, so a passed deadline says what came of it."""
    reports = [
        f"{fact.label} {describe(known.kind, known.value, known.qualifier)}"
        f" (as of {known.as_of.isoformat()})"
        for fact in topic.facts
        if fact.kind == FactKind.STATUS
        and (known := knowledge.get(fact.key)) is not None
        and known.origin == Origin.OBSERVED
        and known.as_of is not None
    ]
    return "; reported since: " + "; ".join(reports) if reports else "; nothing reported since"
