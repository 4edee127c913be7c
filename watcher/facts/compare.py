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

import calendar
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from watcher.facts.topic import Topic
from watcher.models import Evidence, Observation

CHANGE_TYPES = ("new_value", "date_changed", "status_moved", "count_changed", "conflict")


class ChangeEvent(StrEnum):
    """What a pass did to a change."""

    NEW = "new"  # first reported now
    CONFIRMED = "confirmed"  # reached confirmation now
    CORROBORATED = "corroborated"  # more evidence, same status: not news in itself
    # The same news as a change an older article, read late, superseded: only where
    # it started from differs, so it is not alerted again.
    CORRECTED = "corrected"


@dataclass(frozen=True)
class Policy:
    """How different a count must be to change, and how many sites confirm."""

    count_tolerance: float = 0.10  # relative: 1,000 -> 1,090 is the same count
    confirm_sites: int = 2


@dataclass(frozen=True)
class Reading:
    """A value as one or more sources gave it.

    ``as_of`` is the date of the evidence that set the value, and stays so:
    later sources saying the same thing add to ``sources`` and move
    ``last_seen``, the date of the newest of them, which is what an older
    report is judged against.
    """

    value: str | int
    qualifier: str | None
    as_of: date | None
    sources: tuple[Evidence, ...] = ()
    last_seen: date | None = None

    @classmethod
    def of(cls, obs: Observation) -> Reading:
        return cls(obs.value, obs.qualifier, obs.as_of, (obs.evidence,))

    def with_source(self, evidence: Evidence, as_of: date | None = None) -> Reading:
        """This reading with one more source (if new), seen to hold on ``as_of``.

        A later version of an article already among the sources takes the place of its
        earlier quote: an edited article restating the value is the same source.
        """
        sources = self.sources
        if any(evidence.revises(e) for e in sources):
            sources = tuple(dict.fromkeys(evidence if evidence.revises(e) else e for e in sources))
        elif any(e.url == evidence.url and e.quote == evidence.quote for e in sources):
            return self
        else:
            sources = (*sources, evidence)
        return replace(self, sources=sources, last_seen=_later(self.last_seen, as_of))

    @property
    def latest(self) -> date | None:
        """The newest date a source gave this value on."""
        return _later(self.as_of, self.last_seen)

    @property
    def sites(self) -> int:
        return len({e.site for e in self.sources})

    def to_json(self, *, sources: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "value": self.value,
            "qualifier": self.qualifier,
            "as_of": _iso(self.as_of),
        }
        if self.last_seen is not None:
            data["last_seen"] = _iso(self.last_seen)
        if sources:
            data["sources"] = [e.to_json() for e in self.sources]
        return data

    @classmethod
    def from_json(
        cls, data: dict[str, Any], sources: list[dict[str, Any]] | None = None
    ) -> Reading:
        return cls(
            value=data["value"],
            qualifier=data.get("qualifier"),
            as_of=_date(data.get("as_of")),
            sources=tuple(Evidence.from_json(e) for e in (sources or data.get("sources", []))),
            last_seen=_date(data.get("last_seen")),
        )


@dataclass(frozen=True)
class Change:
    """One change of one fact; several articles reporting it make it one change."""

    key: str
    kind: str
    change_type: str
    old: Reading | None
    new: Reading
    status: str  # reported or confirmed
    event: str = ChangeEvent.NEW  # what the pass that returned it did to it
    # Read from an article's changed text: the article was edited after it was read.
    revision: bool = False

    @property
    def identity(self) -> str:
        """Stable across passes: what changed, from what, to what."""
        old = f"{self.old.value}/{self.old.qualifier}" if self.old else "-"
        return f"{self.key}|{self.change_type}|{old}|{self.new.value}/{self.new.qualifier}"

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        return self.new.sources

    @property
    def revised_from(self) -> tuple[Evidence, ...]:
        """What the edited articles behind a revision said before: the old value's quotes
        from those same articles."""
        if not self.revision or self.old is None:
            return ()
        return tuple(e for e in self.old.sources if any(n.revises(e) for n in self.new.sources))

    def to_json(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "key": self.key,
            "kind": self.kind,
            "change_type": self.change_type,
            "status": self.status,
            "event": self.event,
            "old": self.old.to_json(sources=False) if self.old else None,
            "new": self.new.to_json(sources=False),
            "evidence": [e.to_json() for e in self.new.sources],
            "old_evidence": [e.to_json() for e in self.old.sources] if self.old else [],
            "revision": self.revision,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        old = data.get("old")
        return cls(
            key=data["key"],
            kind=data["kind"],
            change_type=data["change_type"],
            old=Reading.from_json(old, data.get("old_evidence", [])) if old else None,
            new=Reading.from_json(data["new"], data.get("evidence", [])),
            status=data["status"],
            event=ChangeEvent(data.get("event", ChangeEvent.NEW)),
            revision=data.get("revision", False),
        )


@dataclass(frozen=True)
class KnownFact:
    """What is known of one fact: its value, who says so, and what came before.

    ``origin`` is ``seeds`` (derived from the seed articles), ``pinned`` (set
    in config) or ``observed`` (a change accepted since). ``alternatives``
    keeps readings the sources gave that differ from the value, such as the
    seeds' "more than" and "fewer than" 1,000; ``conflicts`` the open
    disagreements with it; ``change`` the change that set the value.
    """

    key: str
    kind: str
    current: Reading
    origin: str
    alternatives: tuple[Reading, ...] = ()
    history: tuple[Reading, ...] = ()
    conflicts: tuple[Change, ...] = ()
    change: Change | None = None

    @property
    def value(self) -> str | int:
        return self.current.value

    @property
    def qualifier(self) -> str | None:
        return self.current.qualifier

    @property
    def as_of(self) -> date | None:
        return self.current.as_of

    @property
    def sources(self) -> tuple[Evidence, ...]:
        return self.current.sources

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "value": self.value,
            "qualifier": self.qualifier,
            "as_of": _iso(self.as_of),
            **({"last_seen": _iso(self.current.last_seen)} if self.current.last_seen else {}),
            "origin": self.origin,
            "sources": [e.to_json() for e in self.sources],
            "alternatives": [r.to_json() for r in self.alternatives],
            "history": [r.to_json() for r in self.history],
            "conflicts": [c.to_json() for c in self.conflicts],
            "change": self.change.to_json() if self.change else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KnownFact:
        return cls(
            key=data["key"],
            kind=data["kind"],
            current=Reading.from_json(data),
            origin=data["origin"],
            alternatives=tuple(Reading.from_json(r) for r in data.get("alternatives", [])),
            history=tuple(Reading.from_json(r) for r in data.get("history", [])),
            conflicts=tuple(Change.from_json(c) for c in data.get("conflicts", [])),
            change=Change.from_json(data["change"]) if data.get("change") else None,
        )


@dataclass(frozen=True)
class Knowledge:
    """Current knowledge, fact key to known fact."""

    facts: dict[str, KnownFact] = field(default_factory=dict)

    def get(self, key: str) -> KnownFact | None:
        return self.facts.get(key)

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {key: self.facts[key].to_json() for key in sorted(self.facts)}

    @classmethod
    def from_json(cls, data: dict[str, dict[str, Any]]) -> Knowledge:
        return cls({key: KnownFact.from_json(value) for key, value in data.items()})


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
        ladder = topic.fact(obs.key).value_names if obs.kind == "status" else ()
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
    Only dates and strings, so the order can be stored (see knowledge.fold)."""
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
        change = _status(Change(obs.key, obs.kind, "new_value", None, reading, ""), policy)
        return KnownFact(obs.key, obs.kind, reading, "observed", change=change), change
    if consistent(fact.current, reading, policy):
        current = fact.current.with_source(obs.evidence, obs.as_of)
        fed = None
        if fact.change and _supports(fact.change, reading, policy):
            fed = _corroborated(fact.change, obs.evidence, policy)
        return replace(fact, current=current, change=fed or fact.change), fed
    if _older(reading, fact.current):
        return fact, None
    if obs.kind == "status":
        if ladder.index(str(obs.value)) < ladder.index(str(fact.value)):
            return fact, None
        return _moved(fact, reading, "status_moved", policy)
    if obs.kind == "quantity" and obs.qualifier == "vague":
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
        conflict = _status(Change(obs.key, obs.kind, "conflict", fact.current, reading, ""), policy)
        return replace(fact, conflicts=(*fact.conflicts, conflict)), conflict
    change_type = "date_changed" if obs.kind == "date" else "count_changed"
    return _moved(fact, reading, change_type, policy)


def _moved(
    fact: KnownFact, reading: Reading, change_type: str, policy: Policy
) -> tuple[KnownFact, Change]:
    change = _status(Change(fact.key, fact.kind, change_type, fact.current, reading, ""), policy)
    moved = KnownFact(
        key=fact.key,
        kind=fact.kind,
        current=reading,
        origin="observed",
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
    status = "confirmed" if change.new.sites >= policy.confirm_sites else "reported"
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
    if a.qualifier == "vague" or b.qualifier == "vague":
        vague, other = (a, b) if a.qualifier == "vague" else (b, a)
        low, high = vague_range(int(vague.value))
        return low * (1 - tolerance) <= int(other.value) <= high * (1 + tolerance)
    x, y = int(a.value), int(b.value)
    return abs(x - y) <= tolerance * max(x, y, 1)


def vague_range(value: int) -> tuple[int, int]:
    """What "several hundred" (300) or "dozens" (24) may mean: 200-999, 20-99."""
    unit = 10 ** int(math.log10(max(value, 1)))
    return 2 * unit, 10 * unit - 1


DATE_PRECISIONS = ("exact", "early", "mid", "late", "month")


def date_window(reading: Reading) -> tuple[date, date]:
    """The days a date reading may mean: one day, or part of its month."""
    day = date.fromisoformat(str(reading.value))
    last = calendar.monthrange(day.year, day.month)[1]
    first_day, last_day = {
        "exact": (day.day, day.day),
        "early": (1, 10),
        "mid": (11, 20),
        "late": (21, last),
        "month": (1, last),
    }[reading.qualifier or "exact"]
    return day.replace(day=first_day), day.replace(day=last_day)


_QUALIFIER_WORDS = {"about": "about", "more_than": "more than", "fewer_than": "fewer than"}


def describe(kind: str, value: str | int, qualifier: str | None) -> str:
    """A value for people: "about 1,000", "mid-September 2024", "handed over"."""
    if kind == "quantity":
        if qualifier == "vague":
            low, high = vague_range(int(value))
            return f"an unspecified number ({low:,}-{high:,})"
        word = _QUALIFIER_WORDS.get(qualifier or "")
        return f"{word} {int(value):,}" if word else f"{int(value):,}"
    if kind == "date":
        day = date.fromisoformat(str(value))
        month = f"{calendar.month_name[day.month]} {day.year}"
        if qualifier in ("early", "mid", "late"):
            return f"{qualifier}-{month}"
        return month if qualifier == "month" else day.isoformat()
    return str(value).replace("_", " ")


def _later(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
