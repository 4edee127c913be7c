"""What watcher knows, kept in the state database: the baseline, then every accepted change.

The baseline is derived from the seeds (and the pins in config) and written
on first use. When the seeds, pins or topic change, facts that still come
from the baseline are replaced; facts that moved since (origin
``observed``) are never overwritten by a baseline.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from watcher.config import Config
from watcher.facts.baseline import BaselineError, derive_baseline
from watcher.facts.compare import Change, Comparison, Knowledge, KnownFact, Policy, describe
from watcher.facts.topic import Topic
from watcher.models import CurrentFact, FactChange
from watcher.store import Store

log = logging.getLogger(__name__)

BASELINE_META = "baseline"


def policy_of(config: Config) -> Policy:
    return Policy(
        count_tolerance=config.facts.count_tolerance, confirm_sites=config.facts.confirm_sources
    )


def baseline_of(config: Config, topic: Topic) -> Knowledge:
    """The baseline for this config; a bad pin or seed is a one-line error naming the file."""
    try:
        return derive_baseline(config.seeds_path(), topic, config.facts.pins, policy_of(config))
    except BaselineError as exc:
        where = f"{config.path}: facts." if str(exc).startswith("pins:") else ""
        raise BaselineError(f"{where}{exc}") from None


def _fingerprint(baseline: Knowledge) -> str:
    text = json.dumps(baseline.to_json(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def install_baseline(store: Store, baseline: Knowledge, *, at: datetime) -> bool:
    """Write the baseline unless this one is already in place; True if anything was written."""
    fingerprint = _fingerprint(baseline)
    with store.transaction() as conn:
        if store.read_meta(conn, BASELINE_META) == fingerprint:
            return False
        stored = store.read_knowledge(conn)
        from_baseline = {k for k, v in stored.items() if v.get("origin") != "observed"}
        store.forget_knowledge(conn, from_baseline - set(baseline.facts))
        store.save_knowledge(
            conn,
            {
                key: fact.to_json()
                for key, fact in baseline.facts.items()
                if key not in stored or key in from_baseline
            },
            at=at,
        )
        store.put_meta(conn, BASELINE_META, fingerprint)
    return True


def _knowledge(rows: dict[str, dict[str, Any]]) -> Knowledge:
    """Knowledge from its stored rows; a row that does not read is reported and skipped."""
    facts = {}
    for key, data in rows.items():
        try:
            facts[key] = KnownFact.from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("state database: knowledge row %r is damaged and was skipped (%r)", key, exc)
    return Knowledge(facts)


def read(conn: Connection) -> Knowledge:
    return _knowledge(Store.read_knowledge(conn))


def load(store: Store) -> Knowledge:
    return _knowledge(store.load_knowledge())


@dataclass(frozen=True)
class RecordedChange:
    """A change as stored: its row id and first sighting, and what this pass did to it."""

    change: Change
    change_id: int
    first_seen: datetime

    @property
    def event(self) -> str:
        return self.change.event


def record(conn: Connection, comparison: Comparison, *, at: datetime) -> list[RecordedChange]:
    """Save the knowledge after a pass and the changes it made, in the caller's transaction."""
    Store.save_knowledge(conn, comparison.knowledge.to_json(), at=at)
    recorded = []
    for change in comparison.changes:
        change_id, first_seen = Store.upsert_change(
            conn, change.identity, change.key, change.status, change.to_json(), at=at
        )
        recorded.append(RecordedChange(change, change_id, first_seen))
    return recorded


def label_of(topic: Topic, key: str) -> str:
    try:
        return topic.fact(key).label
    except KeyError:
        return key


def present(change: Change, change_id: int, first_seen: datetime, topic: Topic) -> FactChange:
    """A change as people read it: labels and described values."""
    return FactChange(
        change_id=change_id,
        key=change.key,
        label=label_of(topic, change.key),
        change_type=change.change_type,
        old=describe(change.kind, change.old.value, change.old.qualifier) if change.old else None,
        new=describe(change.kind, change.new.value, change.new.qualifier),
        status=change.status,
        first_seen=first_seen,
        evidence=change.evidence,
        as_of=change.new.as_of,
    )


def stored_changes(
    store: Store,
    topic: Topic,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[FactChange]:
    """Changes from the database, ready to show, oldest first.

    ``since`` and ``until`` may be in any zone (a digest's period is in the
    configured one); the database holds UTC and SQLite compares the stored
    text, so they are turned to UTC first.
    """
    rows = store.list_changes(
        since=since.astimezone(UTC) if since else None,
        until=until.astimezone(UTC) if until else None,
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
        changes.append(present(change, row["id"], datetime.fromisoformat(row["first_seen"]), topic))
    return changes


def current_facts(knowledge: Knowledge, topic: Topic) -> list[CurrentFact]:
    """Every tracked fact of the topic with its value and the last source that gave it."""
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
                source=known.sources[-1] if known.sources else None,
            )
        )
    return facts


def deadline_outlook(knowledge: Knowledge, topic: Topic, today: date) -> list[str]:
    """Days left to each date the topic tracks, or that it passed and what was reported since."""
    lines = []
    for fact in topic.facts:
        known = knowledge.get(fact.key)
        if fact.kind != "date" or known is None or known.qualifier not in (None, "exact"):
            continue
        day = date.fromisoformat(str(known.value))
        left = (day - today).days
        if left > 0:
            days = "1 day" if left == 1 else f"{left} days"
            lines.append(f"{fact.label}: {day.isoformat()}, {days} left")
        elif left == 0:
            lines.append(f"{fact.label}: {day.isoformat()}, today")
        else:
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
        if fact.kind == "status"
        and (known := knowledge.get(fact.key)) is not None
        and known.origin == "observed"
        and known.as_of is not None
    ]
    return "; reported since: " + "; ".join(reports) if reports else "; nothing reported since"
