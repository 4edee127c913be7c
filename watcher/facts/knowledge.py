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
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from watcher.config import Config
from watcher.facts.baseline import BaselineError, derive_baseline
from watcher.facts.compare import (
    Change,
    Knowledge,
    KnownFact,
    Policy,
    compare,
    describe,
    fold_order,
)
from watcher.facts.topic import Topic
from watcher.models import ChangeStatus, CurrentFact, Evidence, FactChange, Observation
from watcher.store import Store, StoredChange

log = logging.getLogger(__name__)

BASELINE_META = "baseline"
# Meta key prefix (+ a fact key): the position of the last observation folded into that fact.
FOLD_META = "fold:"


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


def _with_baseline(
    stored: dict[str, dict[str, Any]], baseline: Knowledge
) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """What installing ``baseline`` over ``stored`` changes: keys to forget, facts to save.

    Facts that still come from a baseline are replaced; facts that moved since
    (origin ``observed``) are kept.
    """
    from_baseline = {k for k, v in stored.items() if v.get("origin") != "observed"}
    save = {
        key: fact.to_json()
        for key, fact in baseline.facts.items()
        if key not in stored or key in from_baseline
    }
    return from_baseline - set(baseline.facts), save


def install_baseline(store: Store, baseline: Knowledge, *, at: datetime) -> bool:
    """Write the baseline unless this one is already in place; True if anything was written.

    Nearly always it is: that is judged on a plain read, and only a new baseline
    takes the write lock (and is judged again under it).
    """
    fingerprint = _fingerprint(baseline)
    if store.get_meta(BASELINE_META) == fingerprint:
        return False
    with store.transaction() as conn:
        if store.read_meta(conn, BASELINE_META) == fingerprint:
            return False
        forget, save = _with_baseline(store.read_knowledge(conn), baseline)
        store.forget_knowledge(conn, forget)
        store.save_knowledge(conn, save, at=at)
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


def current(store: Store, baseline: Knowledge) -> Knowledge:
    """What is known, as :func:`install_baseline` then :func:`load` give it, writing nothing."""
    stored = store.load_knowledge()
    if store.get_meta(BASELINE_META) != _fingerprint(baseline):
        forget, save = _with_baseline(stored, baseline)
        stored = {k: v for k, v in stored.items() if k not in forget} | save
    return _knowledge(stored)


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


def _position(obs: Observation) -> list[str]:
    """Where ``obs`` comes in the fold, as stored: fold_order with dates in ISO form,
    which sorts the same."""
    return [v.isoformat() if isinstance(v, date) else v for v in fold_order(obs)]


def fold(
    conn: Connection,
    observations: list[Observation],
    *,
    baseline: Knowledge,
    topic: Topic,
    policy: Policy,
    at: datetime,
) -> list[RecordedChange]:
    """Fold newly stored observations into knowledge, in the caller's transaction.

    The result is what folding every stored observation from the baseline
    in :func:`fold_order` gives, whatever order sources and passes brought
    them in. A fact whose new observations all come after the last one
    folded into it (the usual case) continues from where it is; one that
    receives an observation from before that point (an older article read
    late) is folded again from the baseline over all its observations.
    Changes the new path no longer goes through are marked superseded.

    Returns the changes this call created or moved on, each with its event:
    new, confirmed, corroborated, or corrected (the same news as a change it
    supersedes, now from another starting value: not alerted again).
    """
    stored = read(conn)
    by_key: dict[str, list[Observation]] = {}
    for obs in observations:
        by_key.setdefault(obs.key, []).append(obs)
    start: dict[str, KnownFact] = {}
    to_fold: list[Observation] = []
    refolded: set[str] = set()
    reached: dict[str, list[str]] = {}
    for key, found in by_key.items():
        mark = Store.read_meta(conn, FOLD_META + key)
        reached[key] = decoded_position(mark)
        fact = stored.get(key)
        if fact is not None and all(_position(o) >= reached[key] for o in found):
            start[key] = fact
            to_fold += found
            continue
        # Out of order, or the fact's row is damaged: fold it all again.
        refolded.add(key)
        if key in baseline.facts:
            start[key] = baseline.facts[key]
        to_fold += [Observation.from_json(row) for row in Store.observations_of(conn, key)]
    comparison = compare(Knowledge(start), to_fold, topic, policy)
    Store.save_knowledge(conn, comparison.knowledge.to_json(), at=at)
    for obs in to_fold:
        reached[obs.key] = max(reached[obs.key], _position(obs))
    for key, position in reached.items():
        Store.put_meta(conn, FOLD_META + key, json.dumps(position))

    known = {c.identity: c for c in Store.changes_of(conn, by_key)}
    produced = {c.identity for c in comparison.changes}
    superseded = [
        c
        for c in known.values()
        if c.key in refolded and c.identity not in produced and c.status != ChangeStatus.SUPERSEDED
    ]
    Store.supersede_changes(conn, [c.id for c in superseded], at=at)
    recorded = []
    for change in comparison.changes:
        event = _event(change, known.get(change.identity), superseded)
        if event is None:
            continue
        change = replace(change, event=event)
        change_id, first_seen = Store.upsert_change(
            conn, change.identity, change.key, change.status, change.to_json(), at=at
        )
        recorded.append(RecordedChange(change, change_id, first_seen))
    return recorded


def decoded_position(mark: str | None) -> list[str]:
    """A stored fold position; nothing stored (or damaged) is before everything."""
    try:
        position = json.loads(mark) if mark else []
    except ValueError:
        return []
    return position if isinstance(position, list) else []


def _event(
    change: Change, stored: StoredChange | None, superseded: list[StoredChange]
) -> str | None:
    """What this fold did to ``change``, judged against the changes table; None: nothing."""
    if stored is None or stored.status == ChangeStatus.SUPERSEDED:
        same_news = any(
            old.key == change.key and old.new == _news(change) and old.status == change.status
            for old in superseded
        )
        return "corrected" if same_news else "new"
    if stored.status != change.status:
        return "confirmed"
    if len(change.evidence) > stored.evidence:
        return "corroborated"
    return None


def _news(change: Change) -> tuple[str | int, str | None]:
    return change.new.value, change.new.qualifier


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
        old_value=change.old.value if change.old else None,
        new_value=change.new.value,
        old_qualifier=change.old.qualifier if change.old else None,
        new_qualifier=change.new.qualifier,
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
        if fact.kind != "date" or known is None or known.qualifier not in (None, "exact"):
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
        if fact.kind == "status"
        and (known := knowledge.get(fact.key)) is not None
        and known.origin == "observed"
        and known.as_of is not None
    ]
    return "; reported since: " + "; ".join(reports) if reports else "; nothing reported since"
