"""Topic files: what a story tracks, in the story's own words.

A topic file (TOML) is validated with pydantic, then turned into plain
dataclasses holding compiled patterns, which is all the facts stage needs.
Phrases (actor names, places, targets) are literal text; cues and markers are
regular expressions. Anything wrong in the file raises :class:`TopicError`
with one line naming the file, the place in it and the problem.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

KINDS = ("date", "quantity", "status")


class TopicError(ValueError):
    """A topic file that cannot be used; the message is one line."""


# -- compiled form, used by the facts stage ----------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    pattern: re.Pattern[str]
    host: bool = False


@dataclass(frozen=True)
class StatusValue:
    name: str
    cues: tuple[re.Pattern[str], ...]
    intention: bool = False


@dataclass(frozen=True)
class Fact:
    """One tracked fact; which fields matter depends on ``kind``."""

    key: str
    kind: str
    label: str
    subject: str
    context: re.Pattern[str] | None = None
    before_date: re.Pattern[str] | None = None
    near_date: re.Pattern[str] | None = None
    units: re.Pattern[str] | None = None
    unit_modifiers: frozenset[str] = frozenset()
    not_present_before: re.Pattern[str] | None = None
    not_present_after: re.Pattern[str] | None = None
    present_before: re.Pattern[str] | None = None
    present_after: re.Pattern[str] | None = None
    historical: re.Pattern[str] | None = None
    targets: re.Pattern[str] | None = None
    anaphora: re.Pattern[str] | None = None
    yield_to_targets: bool = False
    values: tuple[StatusValue, ...] = ()

    @property
    def value_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.values)


@dataclass(frozen=True)
class Topic:
    name: str
    title: str
    path: Path | None
    relevance_actor: str
    relevance_places: re.Pattern[str]
    ambiguous: re.Pattern[str] | None
    confused_with: re.Pattern[str] | None
    min_place_mentions: int
    place: re.Pattern[str]
    elsewhere: re.Pattern[str] | None
    actors: tuple[Actor, ...]
    facts: tuple[Fact, ...]

    def fact(self, key: str) -> Fact:
        for fact in self.facts:
            if fact.key == key:
                return fact
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.facts)


def phrases(items: list[str], *, ignore_case: bool = False) -> re.Pattern[str]:
    """One pattern matching any of ``items`` as whole words, longest first."""
    alternatives = sorted({_phrase(item) for item in items}, key=len, reverse=True)
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", flags)


def _phrase(text: str) -> str:
    return r"\s+".join(re.escape(word) for word in text.split())


def _cue(pattern: str) -> re.Pattern[str]:
    """A cue starts and ends at word edges: "ended" is not in "suspended"."""
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE)


def _any_of(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")", re.IGNORECASE)


# -- file schema ---------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Phrases = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
Patterns = list[str]


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad pattern {pattern!r}: {exc}") from None
    return patterns


class _Relevance(_Strict):
    actor: str
    places: Phrases
    ambiguous: list[str] = []
    confused_with: list[str] = []
    min_place_mentions: int = Field(default=1, ge=1)


class _Place(_Strict):
    aliases: Phrases
    elsewhere: list[str] = []


class _Actor(_Strict):
    aliases: Phrases
    host: bool = False


class _Value(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    cues: Patterns = []
    intention: bool = False

    _patterns = field_validator("cues")(_check_patterns)


class _FactBase(_Strict):
    key: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    label: str
    subject: str


class _DateFact(_FactBase):
    kind: Literal["date"]
    context: Patterns = Field(min_length=1)
    before_date: Patterns = Field(min_length=1)
    near_date: Patterns = []

    _patterns = field_validator("context", "before_date", "near_date")(_check_patterns)


class _QuantityFact(_FactBase):
    kind: Literal["quantity"]
    units: Phrases
    unit_modifiers: list[str] = []
    not_present_before: Patterns = []
    not_present_after: Patterns = []
    present_before: Patterns = []
    present_after: Patterns = []
    historical: Patterns = []

    _patterns = field_validator(
        "not_present_before", "not_present_after", "present_before", "present_after", "historical"
    )(_check_patterns)


class _StatusFact(_FactBase):
    kind: Literal["status"]
    targets: list[str] = []
    anaphora: list[str] = []
    yield_to_targets: bool = False
    statuses: str | None = None
    values: list[_Value] = []


_AnyFact = Annotated[_DateFact | _QuantityFact | _StatusFact, Field(discriminator="kind")]


class _TopicFile(_Strict):
    name: str
    title: str
    relevance: _Relevance
    place: _Place
    actors: dict[str, _Actor] = Field(min_length=1)
    facts: list[_AnyFact] = Field(min_length=1)
    statuses: dict[str, list[_Value]] = {}


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
        first = exc.errors()[0]
        raise TopicError(f"{name}: {_where(first['loc'], data)}: {_describe(first)}") from None
    try:
        return _compile(raw, file)
    except ValueError as exc:
        raise TopicError(f"{name}: {exc}") from None


def _compile(raw: _TopicFile, file: Path | None) -> Topic:
    if raw.relevance.actor not in raw.actors:
        raise ValueError(f"relevance.actor: unknown actor {raw.relevance.actor!r}")
    seen: set[str] = set()
    facts = []
    for index, spec in enumerate(raw.facts):
        where = f"facts[{index}] ({spec.key})"
        if spec.key in seen:
            raise ValueError(f"{where}: key appears twice")
        seen.add(spec.key)
        if spec.subject not in raw.actors:
            raise ValueError(f"{where}.subject: unknown actor {spec.subject!r}")
        facts.append(_compile_fact(spec, raw.statuses, where))
    return Topic(
        name=raw.name,
        title=raw.title,
        path=file,
        relevance_actor=raw.relevance.actor,
        relevance_places=phrases(raw.relevance.places),
        ambiguous=phrases(raw.relevance.ambiguous) if raw.relevance.ambiguous else None,
        confused_with=phrases(raw.relevance.confused_with) if raw.relevance.confused_with else None,
        min_place_mentions=raw.relevance.min_place_mentions,
        place=phrases(raw.place.aliases),
        elsewhere=phrases(raw.place.elsewhere) if raw.place.elsewhere else None,
        actors=tuple(
            Actor(name, phrases(actor.aliases), actor.host) for name, actor in raw.actors.items()
        ),
        facts=tuple(facts),
    )


def _compile_fact(spec: _AnyFact, ladders: dict[str, list[_Value]], where: str) -> Fact:
    common = {"key": spec.key, "kind": spec.kind, "label": spec.label, "subject": spec.subject}
    if isinstance(spec, _DateFact):
        return Fact(
            **common,
            context=_any_of(spec.context),
            before_date=_any_of(spec.before_date),
            near_date=_any_of(spec.near_date),
        )
    if isinstance(spec, _QuantityFact):
        return Fact(
            **common,
            units=phrases(spec.units, ignore_case=True),
            unit_modifiers=frozenset(m.lower() for m in spec.unit_modifiers),
            not_present_before=_any_of(spec.not_present_before),
            not_present_after=_any_of(spec.not_present_after),
            present_before=_any_of(spec.present_before),
            present_after=_any_of(spec.present_after),
            historical=_any_of(spec.historical),
        )
    if spec.statuses and spec.values:
        raise ValueError(f"{where}: give either statuses or values, not both")
    if spec.statuses:
        if spec.statuses not in ladders:
            raise ValueError(f"{where}.statuses: no [statuses.{spec.statuses}] in the file")
        values = ladders[spec.statuses]
    else:
        values = spec.values
    if not values:
        raise ValueError(f"{where}: a status fact needs values (or statuses = NAME)")
    if spec.anaphora and not spec.targets:
        raise ValueError(f"{where}.anaphora: anaphora stand for targets, and there are none")
    names = [v.name for v in values]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: a status value appears twice")
    return Fact(
        **common,
        targets=phrases(spec.targets, ignore_case=True) if spec.targets else None,
        anaphora=phrases(spec.anaphora, ignore_case=True) if spec.anaphora else None,
        yield_to_targets=spec.yield_to_targets,
        values=tuple(
            StatusValue(v.name, tuple(_cue(c) for c in v.cues), v.intention) for v in values
        ),
    )


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """``facts[1] (us_forces.troop_count).units`` for a pydantic error location."""
    parts: list[str] = []
    node: Any = data
    for step in loc:
        if isinstance(step, int) and parts:
            item = node[step] if isinstance(node, list) and step < len(node) else None
            key = item.get("key") or item.get("name") if isinstance(item, dict) else None
            parts[-1] += f"[{step}]" + (f" ({key})" if key else "")
        elif str(step) in KINDS and isinstance(node, dict) and node.get("kind") == step:
            continue  # the discriminated union's branch name says nothing new
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
    if error["type"] == "union_tag_invalid":
        return f"kind must be one of {', '.join(KINDS)}"
    return str(error["msg"]).removeprefix("Value error, ")
