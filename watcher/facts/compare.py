"""Comparing new observations with what is known, to find the facts that changed.

Pure and deterministic: the same knowledge and observations, in any order,
give the same changes and the same new knowledge. Nothing here touches a
database; everything round-trips through ``to_json``/``from_json``.

The rules, per observation of a fact:

- consistent with the current value (same status, a date in the same
  window, a count within the tolerance): corroboration. Its evidence joins
  the value's sources (the value stays "as of" the evidence that set it)
  and, if a change set that value, the change's evidence;
  a change is "confirmed" once its evidence comes from ``confirm_sites``
  distinct sites, "reported" before. Repeating the baseline is never a change.
  Evidence that fits the change's old value as well ("several hundred" after
  "about 1,000" became "about 600") does not speak for the change, and
  evidence a change already has (the same article read again) adds nothing:
  neither is returned as corroboration.
- older than the current value's newest source: history, not news; an
  older article does not overwrite a newer fact.
- a status earlier on its ladder than the current one: background ("the base
  US forces are leaving", written after the handover), ignored. A status only
  moves forward.
- a status further on: ``status_moved``. A different date: ``date_changed``.
  A count outside the tolerance: ``count_changed``. The new value becomes
  current; the old one goes to the fact's history.
- a different date or count from the same day as the current value, or one
  the fact already had before: ``conflict``. Sources disagree; the current
  value stays, and the change carries both sides with their evidence.
- a vague count ("several hundred") only corroborates: it cannot say a count
  changed, or by how much.

Intentions never arrive here as completions: extraction does not turn "is
expected to hand over" into ``handed_over``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from watcher.facts.known import (
    DATE_PRECISIONS,
    Change,
    ChangeEvent,
    Knowledge,
    KnownFact,
    Origin,
    Reading,
    date_window,
    describe,
    vague_range,
)
from watcher.facts.numbers import Qualifier
from watcher.facts.topic import Topic
from watcher.models import ChangeStatus, ChangeType, Evidence, FactKind, Observation

# The value types used to live here; commands and the service still import them from here.
__all__ = [
    "DATE_PRECISIONS",
    "Change",
    "ChangeEvent",
    "Comparison",
    "Knowledge",
    "KnownFact",
    "Policy",
    "Reading",
    "compare",
    "consistent",
    "date_window",
    "describe",
    "fold_order",
    "vague_range",
]


@dataclass(frozen=True)
class Policy:
    """How different a count must be to change, and how many sites confirm."""

    count_tolerance: float = 0.10  # relative: 1,000 -> 1,090 is the same count
    confirm_sites: int = 2


@dataclass(frozen=True)
class Comparison:
    """The knowledge after a pass, and the changes the pass created or added to."""

    knowledge: Knowledge
    changes: list[Change]


def compare(
    knowledge: Knowledge,
    observations: Iterable[Observation],
    topic: Topic,
    policy: Policy | None = None,
) -> Comparison:
    """Fold observations into knowledge; return the new knowledge and the changes.

    A change appears once however many observations reported it in the pass,
    with ``event`` new (first reported now), confirmed (it reached the
    confirmation threshold now) or corroborated (more evidence, same status).
    """
    policy = policy or Policy()
    before = {c.identity: c.status for c in _changes_of(knowledge)}
    facts = dict(knowledge.facts)
    touched: dict[str, Change] = {}
    for obs in sorted(observations, key=fold_order):
        ladder = topic.fact(obs.key).value_names if obs.kind == FactKind.STATUS else ()
        fact, change = _fold(facts.get(obs.key), obs, ladder, policy)
        facts[obs.key] = fact
        if change is not None:
            touched[change.identity] = change
    changes = []
    for identity in sorted(touched):
        change = touched[identity]
        if identity not in before:
            event = ChangeEvent.NEW
        elif before[identity] != change.status:
            event = ChangeEvent.CONFIRMED
        else:
            event = ChangeEvent.CORROBORATED
        changes.append(replace(change, event=event))
    return Comparison(Knowledge(facts), changes)


def _changes_of(knowledge: Knowledge) -> list[Change]:
    found: list[Change] = []
    for fact in knowledge.facts.values():
        found.extend(fact.conflicts)
        if fact.change:
            found.append(fact.change)
    return found


def fold_order(obs: Observation) -> tuple[date | str, ...]:
    """The order observations are folded in: the date the value holds, the article's
    date, then its site and URL, then the rest, so that any two different
    observations have one order and the result never depends on arrival order.
    Only dates and strings, so the order can be stored (see fold.fold)."""
    return (
        obs.as_of or date.max,
        obs.evidence.published or date.max,
        obs.evidence.site,
        obs.evidence.url,
        f"{obs.evidence.revision:06d}",  # an article's edited text after its first
        obs.key,
        str(obs.value),
        obs.qualifier or "",
        obs.evidence.quote,
        obs.evidence.title or "",
    )


def _fold(
    fact: KnownFact | None, obs: Observation, ladder: tuple[str, ...], policy: Policy
) -> tuple[KnownFact, Change | None]:
    """One observation against one fact: the fact after it, and the change it made or fed."""
    fact, change = _fold_one(fact, obs, ladder, policy)
    if change is not None and change.new.sources == (obs.evidence,) and obs.evidence.revision:
        change = replace(change, revision=True)
        if fact.change is not None and fact.change.identity == change.identity:
            fact = replace(fact, change=change)
        fact = replace(
            fact,
            conflicts=tuple(change if c.identity == change.identity else c for c in fact.conflicts),
        )
    return fact, change


def _fold_one(
    fact: KnownFact | None, obs: Observation, ladder: tuple[str, ...], policy: Policy
) -> tuple[KnownFact, Change | None]:
    reading = Reading.of(obs)
    if fact is None:
        change = _status(
            Change(obs.key, obs.kind, ChangeType.NEW_VALUE, None, reading, _UNJUDGED), policy
        )
        return KnownFact(obs.key, obs.kind, reading, Origin.OBSERVED, change=change), change
    if consistent(fact.current, reading, policy):
        current = fact.current.with_source(obs.evidence, obs.as_of)
        fed = None
        if fact.change and _supports(fact.change, reading, policy):
            fed = _corroborated(fact.change, obs.evidence, policy)
        return replace(fact, current=current, change=fed or fact.change), fed
    if _older(reading, fact.current):
        return fact, None
    if obs.kind == FactKind.STATUS:
        if ladder.index(str(obs.value)) < ladder.index(str(fact.value)):
            return fact, None
        return _moved(fact, reading, ChangeType.STATUS_MOVED, policy)
    if obs.kind == FactKind.QUANTITY and obs.qualifier == Qualifier.VAGUE:
        return fact, None
    for index, conflict in enumerate(fact.conflicts):
        if consistent(conflict.new, reading, policy):
            updated = _corroborated(conflict, obs.evidence, policy)
            if updated is None:
                return fact, None
            conflicts = (*fact.conflicts[:index], updated, *fact.conflicts[index + 1 :])
            return replace(fact, conflicts=conflicts), updated
    same_day = reading.as_of == fact.current.latest
    # An edited article moving its own value is news, not a disagreement with itself.
    revises = any(obs.evidence.revises(e) for e in fact.current.sources)
    if not revises and (same_day or any(consistent(old, reading, policy) for old in fact.history)):
        conflict = _status(
            Change(obs.key, obs.kind, ChangeType.CONFLICT, fact.current, reading, _UNJUDGED), policy
        )
        return replace(fact, conflicts=(*fact.conflicts, conflict)), conflict
    change_type = ChangeType.DATE_CHANGED if obs.kind == FactKind.DATE else ChangeType.COUNT_CHANGED
    return _moved(fact, reading, change_type, policy)


# The status a change is built with, before _status judges it from its sites.
_UNJUDGED = ChangeStatus.REPORTED


def _moved(
    fact: KnownFact, reading: Reading, change_type: ChangeType, policy: Policy
) -> tuple[KnownFact, Change]:
    change = _status(
        Change(fact.key, fact.kind, change_type, fact.current, reading, _UNJUDGED), policy
    )
    moved = KnownFact(
        key=fact.key,
        kind=fact.kind,
        current=reading,
        origin=Origin.OBSERVED,
        history=(*fact.history, fact.current),
        change=change,
    )
    return moved, change


def _supports(change: Change, reading: Reading, policy: Policy) -> bool:
    """Whether a reading speaks for a change: not when the old value fits it as well."""
    return change.old is None or not consistent(change.old, reading, policy)


def _corroborated(change: Change, evidence: Evidence, policy: Policy) -> Change | None:
    """The change with one more piece of evidence; None when it already had it."""
    new = change.new.with_source(evidence)
    if len(new.sources) == len(change.new.sources):
        return None
    return _status(replace(change, new=new), policy)


def _status(change: Change, policy: Policy) -> Change:
    status = (
        ChangeStatus.CONFIRMED
        if change.new.sites >= policy.confirm_sites
        else ChangeStatus.REPORTED
    )
    return replace(change, status=status)


def _older(reading: Reading, current: Reading) -> bool:
    """Whether ``reading`` predates the newest source of the current value."""
    latest = current.latest
    return reading.as_of is not None and latest is not None and reading.as_of < latest


def consistent(known: Reading, new: Reading, policy: Policy) -> bool:
    """Whether two readings can both be true: same status, overlapping dates, close counts."""
    if isinstance(known.value, int) and isinstance(new.value, int):
        return _counts_agree(known, new, policy.count_tolerance)
    if known.qualifier in DATE_PRECISIONS and new.qualifier in DATE_PRECISIONS:
        a, b = date_window(known), date_window(new)
        return a[0] <= b[1] and b[0] <= a[1]
    return known.value == new.value


def _counts_agree(a: Reading, b: Reading, tolerance: float) -> bool:
    if Qualifier.VAGUE in (a.qualifier, b.qualifier):
        vague, other = (a, b) if a.qualifier == Qualifier.VAGUE else (b, a)
        low, high = vague_range(int(vague.value))
        return low * (1 - tolerance) <= int(other.value) <= high * (1 + tolerance)
    x, y = int(a.value), int(b.value)
    return abs(x - y) <= tolerance * max(x, y, 1)
