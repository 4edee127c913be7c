"""What is known of a story's facts, as values: what the comparison reads and writes.

A :class:`Reading` is a value with the sources that gave it; a :class:`Change`
one fact's move from one reading to another; a :class:`KnownFact` a fact's
current reading with its history, disagreements and the change that set it;
:class:`Knowledge` every known fact of a story. All of them round-trip
through ``to_json``/``from_json``, which is how the state database keeps them.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from watcher.facts.dates import Precision
from watcher.facts.numbers import Qualifier
from watcher.models import ChangeStatus, ChangeType, Evidence, FactKind, Observation


class ChangeEvent(StrEnum):
    """What a pass did to a change."""

    NEW = "new"  # first reported now
    CONFIRMED = "confirmed"  # reached confirmation now
    CORROBORATED = "corroborated"  # more evidence, same status: not news in itself
    # The same news as a change an older article, read late, superseded: only where
    # it started from differs, so it is not alerted again.
    CORRECTED = "corrected"


class Origin(StrEnum):
    """Where a known fact's value comes from (``KnownFact.origin``)."""

    SEEDS = "seeds"
    PINNED = "pinned"  # pinned in the config
    SET = "set"  # set by a person (`watcher facts set`)
    OBSERVED = "observed"


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
        return replace(self, sources=sources, last_seen=later_date(self.last_seen, as_of))

    @property
    def latest(self) -> date | None:
        """The newest date a source gave this value on."""
        return later_date(self.as_of, self.last_seen)

    @property
    def sites(self) -> int:
        return len({e.site for e in self.sources})

    def to_json(self, *, sources: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "value": self.value,
            "qualifier": self.qualifier,
            "as_of": iso_day(self.as_of),
        }
        if self.last_seen is not None:
            data["last_seen"] = iso_day(self.last_seen)
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
    """One change of one fact; several articles reporting it make it one change.

    Stage: compare. The change in machine values, with every source behind it, as
    the comparison finds it and the changes table keeps it (its JSON); it knows
    nothing of rows or labels, so comparing stays pure. Later stages wrap it:
    RecordedChange (stored), FactChange (shown).
    """

    key: str
    kind: FactKind
    change_type: ChangeType
    old: Reading | None
    new: Reading
    status: ChangeStatus  # reported or confirmed
    event: ChangeEvent = ChangeEvent.NEW  # what the pass that returned it did to it
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
            kind=FactKind(data["kind"]),
            change_type=ChangeType(data["change_type"]),
            old=Reading.from_json(old, data.get("old_evidence", [])) if old else None,
            new=Reading.from_json(data["new"], data.get("evidence", [])),
            status=ChangeStatus(data["status"]),
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
    kind: FactKind
    current: Reading
    origin: Origin
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
            "as_of": iso_day(self.as_of),
            **({"last_seen": iso_day(self.current.last_seen)} if self.current.last_seen else {}),
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
            kind=FactKind(data["kind"]),
            current=Reading.from_json(data),
            origin=Origin(data["origin"]),
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


def vague_range(value: int) -> tuple[int, int]:
    """What "several hundred" (300) or "dozens" (24) may mean: 200-999, 20-99."""
    unit = 10 ** int(math.log10(max(value, 1)))
    return 2 * unit, 10 * unit - 1


DATE_PRECISIONS = (
    Precision.EXACT,
    Precision.EARLY,
    Precision.MID,
    Precision.LATE,
    Precision.MONTH,
)


def date_window(reading: Reading) -> tuple[date, date]:
    """The days a date reading may mean: one day, or part of its month."""
    day = date.fromisoformat(str(reading.value))
    last = calendar.monthrange(day.year, day.month)[1]
    first_day, last_day = {
        Precision.EXACT: (day.day, day.day),
        Precision.EARLY: (1, 10),
        Precision.MID: (11, 20),
        Precision.LATE: (21, last),
        Precision.MONTH: (1, last),
    }[Precision(reading.qualifier or Precision.EXACT)]
    return day.replace(day=first_day), day.replace(day=last_day)


_QUALIFIER_WORDS = {
    Qualifier.ABOUT: "about",
    Qualifier.MORE_THAN: "more than",
    Qualifier.FEWER_THAN: "fewer than",
}


def describe(kind: str, value: str | int, qualifier: str | None) -> str:
    """A value for people: "about 1,000", "mid-September 2024", "handed over"."""
    if kind == FactKind.QUANTITY:
        if qualifier == Qualifier.VAGUE:
            low, high = vague_range(int(value))
            return f"an unspecified number ({low:,}-{high:,})"
        word = _QUALIFIER_WORDS.get(Qualifier(qualifier)) if qualifier in _QUALIFIER_WORDS else None
        return f"{word} {int(value):,}" if word else f"{int(value):,}"
    if kind == FactKind.DATE:
        day = date.fromisoformat(str(value))
        month = f"{calendar.month_name[day.month]} {day.year}"
        if qualifier in (Precision.EARLY, Precision.MID, Precision.LATE):
            return f"{qualifier}-{month}"
        return month if qualifier == Precision.MONTH else day.isoformat()
    return str(value).replace("_", " ")


def later_date(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def iso_day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
