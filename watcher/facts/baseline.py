"""The baseline: what the seed articles say, plus what the user pins.

The seeds go through the same extraction as any article. Where they
disagree the disagreement is kept: the seeds' troop counts ("more than
1,000", "fewer than 1,000") become "about 1,000" with both readings and
their sources as alternatives. A pinned value replaces a derived one and is
marked ``origin = "pinned"``; the derived reading stays as an alternative.

Pins, as config gives them (a bare value, or a table)::

    {"us_forces.troop_count": {"value": 1100, "qualifier": "about", "as_of": "2024-05-01"},
     "bases.air_base_201.status": "operating"}
"""

from __future__ import annotations

import statistics
import tomllib
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from watcher.facts.compare import DATE_PRECISIONS, Knowledge, KnownFact, Policy, Reading, consistent
from watcher.facts.reading import extract_facts
from watcher.facts.topic import Topic
from watcher.models import Article, Observation

MANIFEST = "manifest.toml"
QUANTITY_QUALIFIERS = ("exact", "about", "more_than", "fewer_than", "vague")


class BaselineError(ValueError):
    """Seeds or pins that cannot be used; the message is one line."""


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str
    url: str
    published: date
    title: str | None = None


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: list[_Seed]


def read_seeds(seeds_dir: Path) -> list[Article]:
    """The seed articles, with the title, date and URL their manifest gives."""
    path = seeds_dir / MANIFEST
    try:
        manifest = _Manifest.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        return [
            Article(
                url=seed.url,
                title=seed.title,
                text=(seeds_dir / seed.file).read_text(encoding="utf-8"),
                published=datetime.combine(seed.published, datetime.min.time(), tzinfo=UTC),
            )
            for seed in manifest.seed
        ]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the seeds: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        raise BaselineError(f"{path}: {where}: {first['msg']}") from None


def derive_baseline(
    seeds_dir: Path,
    topic: Topic,
    pins: dict[str, Any] | None = None,
    policy: Policy | None = None,
) -> Knowledge:
    """Knowledge from the seeds' facts, with pinned values put over them."""
    policy = policy or Policy()
    by_key: dict[str, list[Observation]] = defaultdict(list)
    for article in read_seeds(seeds_dir):
        for obs in extract_facts(article, topic):
            by_key[obs.key].append(obs)
    facts = {
        key: _merge(key, observations, topic, policy)
        for key, observations in sorted(by_key.items())
    }
    for key, pin in (pins or {}).items():
        facts[key] = _pinned(key, pin, topic, facts.get(key))
    return Knowledge(facts)


def _readings(observations: list[Observation]) -> list[Reading]:
    """One reading per value and qualifier, with all its sources, in a stable order."""
    merged: dict[tuple[Any, Any], Reading] = {}
    for obs in sorted(observations, key=lambda o: (o.as_of or date.min, o.evidence.url)):
        ident = (obs.value, obs.qualifier)
        merged[ident] = (
            merged[ident].with_source(obs.evidence, obs.as_of)
            if ident in merged
            else Reading.of(obs)
        )
    return list(merged.values())


def _merge(key: str, observations: list[Observation], topic: Topic, policy: Policy) -> KnownFact:
    fact = topic.fact(key)
    readings = _readings(observations)
    if fact.kind == "status":
        # Statuses only move forward: the furthest one the seeds report is where things stand.
        main = max(readings, key=lambda r: fact.value_names.index(str(r.value)))
    else:
        main = max(readings, key=lambda r: (r.sites, _precision(r), r.latest or date.min))
    agreeing = [r for r in readings if consistent(main, r, policy)]
    others = tuple(r for r in readings if r not in agreeing)
    sources = tuple(e for r in sorted(agreeing, key=lambda r: r is not main) for e in r.sources)
    # The baseline holds as of the latest seed that states it.
    as_of = max((r.latest for r in agreeing if r.latest), default=None)
    # A vague count ("several hundred" is 300) is a range, not a number to take the middle of.
    counted = [r for r in agreeing if r.qualifier != "vague"]
    if fact.kind == "quantity" and len(agreeing) > 1 and counted:
        # Sources that agree within tolerance but word it differently: "about"
        # the middle value, with every wording kept as an alternative.
        value = int(statistics.median_low(int(r.value) for r in counted))
        current = Reading(value, "about", as_of, sources)
        return KnownFact(key, fact.kind, current, "seeds", (*agreeing, *others))
    current = Reading(main.value, main.qualifier, as_of, sources)
    return KnownFact(key, fact.kind, current, "seeds", others)


def _precision(reading: Reading) -> int:
    qualifiers = (*DATE_PRECISIONS, *QUANTITY_QUALIFIERS)
    return -qualifiers.index(reading.qualifier) if reading.qualifier in qualifiers else 0


def _pinned(key: str, pin: Any, topic: Topic, derived: KnownFact | None) -> KnownFact:
    try:
        fact = topic.fact(key)
    except KeyError:
        raise BaselineError(f"pins: {key}: not a fact of topic {topic.name!r}") from None
    spec = pin if isinstance(pin, dict) else {"value": pin}
    unknown = set(spec) - {"value", "qualifier", "as_of"}
    if unknown or "value" not in spec:
        raise BaselineError(f"pins: {key}: give value, and optionally qualifier and as_of")
    value, qualifier = spec["value"], spec.get("qualifier")
    try:
        as_of = _as_date(spec["as_of"]) if "as_of" in spec else (derived.as_of if derived else None)
        if fact.kind == "date":
            value = _as_date(value).isoformat()
            qualifier = qualifier or "exact"
            if qualifier not in DATE_PRECISIONS:
                raise ValueError(f"qualifier must be one of {', '.join(DATE_PRECISIONS)}")
        elif fact.kind == "quantity":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("value must be a whole number")
            qualifier = qualifier or "exact"
            if qualifier not in QUANTITY_QUALIFIERS:
                raise ValueError(f"qualifier must be one of {', '.join(QUANTITY_QUALIFIERS)}")
        elif value not in fact.value_names:
            raise ValueError(f"value must be one of {', '.join(fact.value_names)}")
    except ValueError as exc:
        raise BaselineError(f"pins: {key}: {exc}") from None
    derived_readings = (derived.current, *derived.alternatives) if derived else ()
    return KnownFact(
        key, fact.kind, Reading(value, qualifier, as_of), "pinned", tuple(derived_readings)
    )


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)") from None
