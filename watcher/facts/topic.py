"""Topic files: what a story tracks, in the story's own names.

A topic names who leaves (the subject), where from (the place), the host's
forces, any other forces the reader should know, and the bases and agreements
to follow. The facts are built in: the deadline of the subject's withdrawal,
the count of its people in the place, the status of the withdrawal, of each
base and of each agreement. How these are told in English is the engine's
business (watcher/facts/lexicon.py); a topic holds names, never patterns.

A file is validated with pydantic; anything wrong raises :class:`TopicError`
with one line naming the file, the place in it and the problem.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from watcher.facts.schema import StrictSchema
from watcher.models import FactKind


class TopicError(ValueError):
    """A topic file that cannot be used; the message is one line."""


class FactType(StrEnum):
    """The built-in facts a topic can track."""

    DEADLINE = "deadline"  # when the subject's withdrawal must be complete
    TROOP_COUNT = "troop_count"  # how many of the subject's people are in the place
    WITHDRAWAL = "withdrawal_status"  # agreed, in progress, completed
    BASE = "base"  # the subject at one named base
    AGREEMENT = "agreement"  # an agreement between the subject and the host
    PRESENCE = "presence"  # another force in the place


# Status ladders: a later value is progress; an earlier one after a later one
# is background.
WITHDRAWAL_VALUES = ("agreed", "in_progress", "completed")
BASE_VALUES = ("operating", "withdrawing", "handed_over")
AGREEMENT_VALUES = ("in_force", "suspended", "ended")
PRESENCE_VALUES = ("present", "withdrawn")


@dataclass(frozen=True)
class Fact:
    """One tracked fact."""

    key: str
    kind: FactKind
    type: FactType
    label: str
    target: str | None = None  # the base, agreement or force it is about
    value_names: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Topic:
    """A compiled topic; compared and hashed by identity, so that what is
    compiled from it can be cached per topic."""

    name: str
    title: str
    path: Path | None
    since: date | None  # when the story began: older articles are about something else
    subject: str  # the subject's id
    subject_names: tuple[str, ...]
    place_names: tuple[str, ...]
    host_names: tuple[str, ...]
    confused_with: tuple[str, ...]
    ambiguous: tuple[str, ...]  # place names that may mean a confused place
    min_place_mentions: int
    others: dict[str, tuple[str, ...]]  # other forces: id to names
    bases: dict[str, tuple[str, ...]]  # fact key to names
    base_towns: dict[str, tuple[str, ...]]  # fact key to the towns that name it
    agreements: dict[str, tuple[str, ...]]  # fact key to names
    people: tuple[str, ...]  # extra words for the subject's people
    process: tuple[str, ...]  # extra nouns naming the withdrawal
    verbs: tuple[str, ...]  # extra verbs for leaving ("replace"), in the base form
    completed_implies_bases: bool
    facts: tuple[Fact, ...] = field(default=())

    def fact(self, key: str) -> Fact:
        for fact in self.facts:
            if fact.key == key:
                return fact
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.facts)

    def key_of(self, type: FactType, target: str | None = None) -> str | None:
        """The key of a tracked fact of this type (and target), if it is tracked."""
        for fact in self.facts:
            if fact.type is type and fact.target == target:
                return fact.key
        return None


# -- file schema ---------------------------------------------------------------


Name = Annotated[str, Field(min_length=1)]
Names = Annotated[list[Name], Field(min_length=1)]
Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Subject(StrictSchema):
    id: Ident
    label: Name
    names: Names
    people: list[Name] = []
    process: list[Name] = []
    verbs: list[Name] = []


class _Place(StrictSchema):
    label: Name
    names: Names
    host: list[Name] = []
    confused_with: list[Name] = []
    ambiguous: list[Name] = []
    min_mentions: int = Field(default=1, ge=1)


class _Named(StrictSchema):
    id: Ident
    label: Name
    names: Names
    key: str | None = Field(default=None, pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


class _Base(_Named):
    near: list[Name] = []  # towns that name it: "the base near Agadez", "Agadez air base"


class _Other(StrictSchema):
    label: Name
    names: Names
    track_presence: bool = False


class _Track(StrictSchema):
    deadline: bool = True
    troop_count: bool = True
    withdrawal_status: bool = True
    completed_implies_bases: bool = True


class _TopicFile(StrictSchema):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    title: Name
    since: date | None = None
    subject: _Subject
    place: _Place
    others: dict[Ident, _Other] = {}
    bases: list[_Base] = []
    agreements: list[_Named] = []
    track: _Track = _Track()

    @model_validator(mode="before")
    @classmethod
    def _old_format(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("facts" in data or "actors" in data):
            raise ValueError(
                "this topic file is in the old format ([[facts]] with cues); "
                "topics now name things and no patterns: see the README, 'Topic files'"
            )
        return data


# -- loading -------------------------------------------------------------------


def load_topic(path: str | Path) -> Topic:
    """Read, validate and compile a topic file."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TopicError(f"{file}: topic file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TopicError(f"{file}: cannot read topic file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TopicError(f"{file}: not valid TOML: {exc}") from None
    return parse_topic(data, file)


def parse_topic(data: dict[str, Any], file: Path | None = None) -> Topic:
    """Validate and compile topic data already read from TOML."""
    name = str(file) if file else "<topic>"
    try:
        raw = _TopicFile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # An unknown key explains a missing one next to it ("nmaes" for "names").
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        raise TopicError(f"{name}: {_where(first['loc'], data)}: {_describe(first)}") from None
    problems = topic_problems(raw)
    if problems:
        raise TopicError(f"{name}: {problems[0]}")
    return _compile(raw, file)


def topic_problems(raw: _TopicFile) -> list[str]:
    """Everything wrong with a topic that the schema alone cannot see."""
    problems = []
    owners: dict[str, str] = {}
    claims = [("subject", n) for n in raw.subject.names]
    claims += [("place", n) for n in raw.place.names]
    claims += [("place.host", n) for n in raw.place.host]
    claims += [(f"others.{ident}", n) for ident, other in raw.others.items() for n in other.names]
    for owner, name in claims:
        earlier = owners.setdefault(name, owner)
        if earlier != owner and {earlier, owner} != {"place", "place.host"}:
            problems.append(f"{owner}: {name!r} is also a name of {earlier}")
    if raw.subject.id in raw.others:
        problems.append(f"others.{raw.subject.id}: the subject cannot also be another force")
    for section, items in (("bases", raw.bases), ("agreements", raw.agreements)):
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.id in seen:
                problems.append(f"{section}[{index}] ({item.id}): id appears twice")
            seen.add(item.id)
    return problems


def topic_file_problems(path: str | Path) -> list[str]:
    """Everything wrong with a topic file, one line each, all at once (for `watcher story
    check`): what :func:`load_topic` would stop at first, and what it lets pass but a
    reader would trip over (a base's ``near`` town that is no place of the story, a name
    two bases claim)."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{file}: topic file not found"]
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{file}: cannot read topic file: {exc}"]
    except tomllib.TOMLDecodeError as exc:
        return [f"{file}: not valid TOML: {exc}"]
    try:
        raw = _TopicFile.model_validate(data)
    except ValidationError as exc:
        return [f"{file}: {_where(e['loc'], data)}: {_describe(e)}" for e in exc.errors()]
    problems = topic_problems(raw)
    places = [*raw.place.names, *raw.place.host]
    owners: dict[str, str] = {}
    for index, base in enumerate(raw.bases):
        where = f"bases[{index}] ({base.id})"
        for name in base.names:
            earlier = owners.setdefault(name.casefold(), where)
            if earlier != where:
                problems.append(f"{where}.names: {name!r} is also a name of {earlier}")
        for town in base.near:
            if not any(_names_word(town, place) for place in places):
                problems.append(
                    f"{where}.near: {town!r} names no place of the story "
                    f"([place] names: {', '.join(raw.place.names)})"
                )
    return [f"{file}: {problem}" for problem in problems]


def _names_word(text: str, name: str) -> bool:
    """Whether ``name`` appears in ``text`` as a whole word or words."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def _compile(raw: _TopicFile, file: Path | None) -> Topic:
    subject = raw.subject
    facts: list[Fact] = []
    if raw.track.deadline:
        facts.append(
            Fact(
                f"{subject.id}.withdrawal_deadline",
                FactKind.DATE,
                FactType.DEADLINE,
                f"{subject.label} withdrawal deadline",
            )
        )
    if raw.track.troop_count:
        facts.append(
            Fact(
                f"{subject.id}.troop_count",
                FactKind.QUANTITY,
                FactType.TROOP_COUNT,
                f"{subject.label} troops in {raw.place.label}",
            )
        )
    if raw.track.withdrawal_status:
        facts.append(
            Fact(
                f"{subject.id}.withdrawal_status",
                FactKind.STATUS,
                FactType.WITHDRAWAL,
                f"{subject.label} withdrawal",
                value_names=WITHDRAWAL_VALUES,
            )
        )
    bases: dict[str, tuple[str, ...]] = {}
    base_towns: dict[str, tuple[str, ...]] = {}
    for base in raw.bases:
        key = base.key or f"bases.{base.id}.status"
        facts.append(
            Fact(key, FactKind.STATUS, FactType.BASE, base.label, key, value_names=BASE_VALUES)
        )
        bases[key] = tuple(base.names)
        base_towns[key] = tuple(base.near)
    agreements: dict[str, tuple[str, ...]] = {}
    for agreement in raw.agreements:
        key = agreement.key or f"agreements.{agreement.id}.status"
        facts.append(
            Fact(
                key,
                FactKind.STATUS,
                FactType.AGREEMENT,
                agreement.label,
                key,
                value_names=AGREEMENT_VALUES,
            )
        )
        agreements[key] = tuple(agreement.names)
    for ident, other in raw.others.items():
        if other.track_presence:
            facts.append(
                Fact(
                    f"{ident}.presence",
                    FactKind.STATUS,
                    FactType.PRESENCE,
                    f"{other.label} in {raw.place.label}",
                    ident,
                    value_names=PRESENCE_VALUES,
                )
            )
    return Topic(
        name=raw.name,
        title=raw.title,
        path=file,
        since=raw.since,
        subject=subject.id,
        subject_names=tuple(subject.names),
        place_names=tuple(raw.place.names),
        host_names=tuple(raw.place.host),
        confused_with=tuple(raw.place.confused_with),
        ambiguous=tuple(raw.place.ambiguous),
        min_place_mentions=raw.place.min_mentions,
        others={ident: tuple(other.names) for ident, other in raw.others.items()},
        bases=bases,
        base_towns=base_towns,
        agreements=agreements,
        people=tuple(subject.people),
        process=tuple(subject.process),
        verbs=tuple(subject.verbs),
        completed_implies_bases=raw.track.completed_implies_bases,
        facts=tuple(facts),
    )


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """``bases[1] (agadez).names`` for a pydantic error location."""
    parts: list[str] = []
    node: Any = data
    for step in loc:
        if isinstance(step, int) and parts:
            item = node[step] if isinstance(node, list) and step < len(node) else None
            ident = item.get("id") if isinstance(item, dict) else None
            parts[-1] += f"[{step}]" + (f" ({ident})" if ident else "")
        else:
            parts.append(str(step))
        with contextlib.suppress(KeyError, IndexError, TypeError):
            node = node[step]
    return ".".join(parts) or "(top level)"


def _describe(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required, but missing"
    if error["type"] == "string_pattern_mismatch" and error["loc"][-1] == "id":
        return "an id is lower-case letters, digits and _, starting with a letter"
    if error["type"].startswith("date") and error["loc"][-1] == "since":
        return "write a bare TOML date, without quotes: since = 2024-04-01"
    return str(error["msg"]).removeprefix("Value error, ")
