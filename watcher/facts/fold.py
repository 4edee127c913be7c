"""Folding a story's observations into its knowledge, in the order they hold in,
whatever order they arrived in; with the values people set and the config pins
put in at their dates, and rejected readings left out.

knowledge.py installs baselines and reads what is known; this module moves it on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from watcher.facts.compare import Policy, compare, fold_order
from watcher.facts.known import (
    Change,
    ChangeEvent,
    Knowledge,
    KnownFact,
    Origin,
    Reading,
    later_date,
)
from watcher.facts.stories import Story
from watcher.facts.topic import Topic
from watcher.models import ChangeStatus, FactKind, Observation
from watcher.store import CorrectionKind, Store, StoredChange, StoredCorrection

log = logging.getLogger(__name__)

# Meta key prefix (+ story:key): the position of the last observation folded into that fact.
FOLD_META = "fold:"


def knowledge_of(rows: dict[str, dict[str, Any]]) -> Knowledge:
    """Knowledge from its stored rows; a row that does not read is reported and skipped."""
    facts = {}
    for key, data in rows.items():
        try:
            facts[key] = KnownFact.from_json(data)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("state database: knowledge row %r is damaged and was skipped (%r)", key, exc)
    return Knowledge(facts)


@dataclass(frozen=True)
class RecordedChange:
    """A change as stored: its row id and first sighting, and what this pass did to it.

    Stage: fold. A Change once it has a row in the changes table: the id and the
    first sighting are what alerts need and what a Change, compared without a
    database, cannot have.
    """

    change: Change
    change_id: int
    first_seen: datetime

    @property
    def event(self) -> ChangeEvent:
        return self.change.event


def _position(obs: Observation) -> list[str]:
    """Where ``obs`` comes in the fold, as stored: fold_order with dates in ISO form,
    which sorts the same."""
    return [v.isoformat() if isinstance(v, date) else v for v in fold_order(obs)]


@dataclass(frozen=True)
class Override:
    """A value a person set, or the config pins: it holds from ``as_of`` on, after
    every article of that day, until a later article reports a further change."""

    correction_id: int
    key: str
    value: str | int
    qualifier: str | None
    as_of: date
    origin: Origin

    @classmethod
    def of(cls, correction: StoredCorrection) -> Override:
        data = correction.data
        origin = Origin.PINNED if correction.kind == CorrectionKind.PIN else Origin.SET
        return cls(
            correction.id,
            correction.key,
            data["value"],
            data.get("qualifier"),
            date.fromisoformat(data["as_of"]),
            origin,
        )

    def position(self) -> list[str]:
        # After every observation of its day ("\uffff" sorts after any date or text).
        return [self.as_of.isoformat(), "\uffff", str(self.correction_id)]

    def apply(self, fact: KnownFact | None, kind: FactKind) -> KnownFact:
        reading = Reading(self.value, self.qualifier, self.as_of)
        if fact is None:
            return KnownFact(self.key, kind, reading, self.origin)
        if (fact.value, fact.qualifier) == (self.value, self.qualifier):
            held = replace(fact.current, as_of=later_date(fact.as_of, self.as_of))
            return replace(fact, current=held, origin=self.origin)
        return KnownFact(
            key=self.key,
            kind=kind,
            current=reading,
            origin=self.origin,
            history=(*fact.history, fact.current),
        )


def overrides_of(conn: Connection, story: str) -> dict[str, list[Override]]:
    """The story's values set by people and pinned in the config, by fact, in fold order."""
    found: dict[str, list[Override]] = {}
    for correction in Store.read_corrections(conn, story=story, active=True):
        if correction.kind in (CorrectionKind.SET, CorrectionKind.PIN):
            found.setdefault(correction.key, []).append(Override.of(correction))
    for listed in found.values():
        listed.sort(key=Override.position)
    return found


def rejected_of(conn: Connection, story: str) -> dict[str, set[tuple[str, str]]]:
    """The evidence of the story's rejected changes, by fact: (article URL, quote)."""
    found: dict[str, set[tuple[str, str]]] = {}
    for correction in Store.read_corrections(conn, story=story, active=True):
        if correction.kind == CorrectionKind.REJECT:
            found.setdefault(correction.key, set()).update(
                (e["url"], e["quote"]) for e in correction.data.get("evidence", [])
            )
    return found


def fold(
    conn: Connection,
    story: Story,
    observations: list[Observation],
    *,
    policy: Policy | None,
    at: datetime,
    refold: set[str] | None = None,
) -> list[RecordedChange]:
    """Fold newly stored observations of a story into its knowledge, in the caller's
    transaction.

    The result is what folding every stored observation from the baseline
    in :func:`fold_order` gives, with the values people set and the config
    pins put in at their dates and rejected readings left out, whatever
    order sources and passes brought them in. A fact whose new observations
    all come after the last one folded into it (the usual case) continues
    from where it is; one that receives an observation from before that
    point (an older article read late), or is in ``refold`` (a correction
    was made or undone), is folded again from the baseline over all its
    observations. Changes the new path no longer goes through are marked
    superseded.

    Returns the changes this call created or moved on, each with its event:
    new, confirmed, corroborated, or corrected (the same news as a change it
    supersedes, now from another starting value: not alerted again).
    """
    policy = policy or Policy()
    refold = set(refold or ())
    name, topic = story.name, story.topic
    stored = knowledge_of(Store.read_knowledge(conn, name))
    overrides = overrides_of(conn, name)
    rejected = rejected_of(conn, name)
    by_key: dict[str, list[Observation]] = {key: [] for key in refold}
    for obs in observations:
        if (obs.evidence.url, obs.evidence.quote) not in rejected.get(obs.key, set()):
            by_key.setdefault(obs.key, []).append(obs)
    folded: dict[str, KnownFact] = {}
    touched: dict[str, Change] = {}
    refolded: set[str] = set()
    reached: dict[str, list[str]] = {}
    for key, found in by_key.items():
        if key not in topic.keys:
            log.warning("story %s: %s is no longer a fact of its topic; skipped", name, key)
            continue
        mark = decoded_position(Store.read_meta(conn, _fold_key(name, key)))
        fact = stored.get(key)
        if key not in refold and fact is not None and all(_position(o) >= mark for o in found):
            steps: list[Observation | Override] = [*found]
            steps += [o for o in overrides.get(key, []) if o.position() > mark]
            start: KnownFact | None = fact
        else:
            # Out of order, corrected, or the fact's row is damaged: fold it all again.
            refolded.add(key)
            start = story.baseline.facts.get(key)
            steps = [
                o
                for row in Store.observations_of(conn, name, key)
                if (o := Observation.from_json(row))
                and (o.evidence.url, o.evidence.quote) not in rejected.get(key, set())
            ]
            steps += overrides.get(key, [])
            mark = []
        fact, changes = _fold_steps(start, steps, key, topic, policy)
        for change in changes:
            touched[change.identity] = change
        if fact is not None:
            folded[key] = fact
        for step in steps:
            mark = max(mark, step.position() if isinstance(step, Override) else _position(step))
        reached[key] = mark
    Store.save_knowledge(conn, name, Knowledge(folded).to_json(), at=at)
    gone = {k for k in refolded if k not in folded and k not in story.baseline.facts}
    Store.forget_knowledge(conn, name, gone)
    for key, position in reached.items():
        Store.put_meta(conn, _fold_key(name, key), json.dumps(position))

    known = {
        c.identity: c
        for c in Store.changes_of(conn, name, by_key)
        if c.status != ChangeStatus.REJECTED
    }
    superseded = [
        c
        for c in known.values()
        if c.key in refolded and c.identity not in touched and c.status != ChangeStatus.SUPERSEDED
    ]
    Store.supersede_changes(conn, [c.id for c in superseded], at=at)
    recorded = []
    for identity in sorted(touched):
        change = touched[identity]
        event = _event(change, known.get(change.identity), superseded)
        if event is None:
            continue
        change = replace(change, event=event)
        change_id, first_seen = Store.upsert_change(
            conn, name, change.identity, change.key, change.status, change.to_json(), at=at
        )
        recorded.append(RecordedChange(change, change_id, first_seen))
    return recorded


def _fold_steps(
    start: KnownFact | None,
    steps: list[Observation | Override],
    key: str,
    topic: Topic,
    policy: Policy,
) -> tuple[KnownFact | None, list[Change]]:
    """One fact folded over observations and overrides in order: the fact, and the
    changes made or fed on the way (the last state of each)."""
    fact = start
    touched: dict[str, Change] = {}
    run: list[Observation] = []
    kind = topic.fact(key).kind

    def flush() -> None:
        nonlocal fact
        if run:
            comparison = compare(Knowledge({key: fact} if fact else {}), run, topic, policy)
            fact = comparison.knowledge.get(key)
            touched.update((c.identity, c) for c in comparison.changes)
            run.clear()

    def order(step: Observation | Override) -> list[str]:
        return step.position() if isinstance(step, Override) else _position(step)

    for step in sorted(steps, key=order):
        if isinstance(step, Override):
            flush()
            fact = step.apply(fact, kind)
        else:
            run.append(step)
    flush()
    return fact, list(touched.values())


def _fold_key(story: str, key: str) -> str:
    return f"{FOLD_META}{story}:{key}"


def decoded_position(mark: str | None) -> list[str]:
    """A stored fold position; nothing stored (or damaged) is before everything."""
    try:
        position = json.loads(mark) if mark else []
    except ValueError:
        return []
    return position if isinstance(position, list) else []


def _event(
    change: Change, stored: StoredChange | None, superseded: list[StoredChange]
) -> ChangeEvent | None:
    """What this fold did to ``change``, judged against the changes table; None: nothing."""
    if stored is None or stored.status == ChangeStatus.SUPERSEDED:
        same_news = any(
            old.key == change.key and old.new == _news(change) and old.status == change.status
            for old in superseded
        )
        return ChangeEvent.CORRECTED if same_news else ChangeEvent.NEW
    if stored.status != change.status:
        return ChangeEvent.CONFIRMED
    if len(change.evidence) > stored.evidence:
        return ChangeEvent.CORROBORATED
    return None


def _news(change: Change) -> tuple[str | int, str | None]:
    return change.new.value, change.new.qualifier
