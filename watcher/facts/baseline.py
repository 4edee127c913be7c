"""The baseline: what the seed articles say, plus what the user pins.

The seeds go through the same extraction as any article. Where they
disagree the disagreement is kept: the seeds' troop counts ("more than
1,000", "fewer than 1,000") become "about 1,000" with both readings and
their sources as alternatives. A pinned value replaces a derived one and is
marked ``origin = "pinned"``; the derived reading stays as an alternative.

Pins, as config gives them (a bare value, or a table)::

    {"us_forces.troop_count": {"value": 1100, "qualifier": "about", "as_of": "2024-05-01"},
     "bases.air_base_201.status": "operating"}

Seeds are a folder with ``manifest.toml``: one ``[[seed]]`` per article, a
plain-text or HTML ``file`` in the folder or a ``url`` fetched once, with the
``published`` date an undated seed needs (see the README, "Seeds").
"""

from __future__ import annotations

import statistics
import tomllib
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from watcher.facts.compare import Policy, consistent
from watcher.facts.dates import Precision
from watcher.facts.known import DATE_PRECISIONS, Knowledge, KnownFact, Origin, Reading
from watcher.facts.numbers import Qualifier
from watcher.facts.reading import extract_facts
from watcher.facts.topic import Topic
from watcher.ingest.extract import ExtractError, as_datetime, extract_html
from watcher.models import Article, FactKind, Observation

MANIFEST = "manifest.toml"
_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
# Gives a seed URL's page: read from where it was kept, or fetched once and kept.
PageFetcher = Callable[[str], bytes]
QUANTITY_QUALIFIERS = (
    Qualifier.EXACT,
    Qualifier.ABOUT,
    Qualifier.MORE_THAN,
    Qualifier.FEWER_THAN,
    Qualifier.VAGUE,
)


class BaselineError(ValueError):
    """Seeds or pins that cannot be used; the message is one line."""


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A .txt or .html file in the seeds folder; or, without one, ``url`` is fetched.
    file: str | None = None
    # Where the seed was published: its evidence link. Default for a file: seed:NAME.
    url: str | None = None
    # Required for a plain-text file and for a page that carries no date of its own.
    published: date | None = None
    title: str | None = None

    @model_validator(mode="after")
    def _file_or_url(self) -> _Seed:
        if self.file is None and self.url is None:
            raise ValueError("give file (in the seeds folder) or url (fetched once)")
        if self.url is not None and not self.url.startswith(("http://", "https://", "seed:")):
            raise ValueError(f"url: not an http(s) URL: {self.url!r}")
        return self

    @property
    def name(self) -> str:
        return self.file or str(self.url)


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: list[_Seed] = []


def _manifest(seeds_dir: Path) -> _Manifest:
    path = seeds_dir / MANIFEST
    try:
        return _Manifest.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise BaselineError(f"{path}: cannot read the seeds: file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the seeds: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise BaselineError(f"{path}: {where}: {message}") from None


def seed_problems(seeds_dir: Path) -> list[str]:
    """Everything wrong with a seeds folder that can be seen without reading the
    articles: no manifest, no seed, a file missing, a plain-text seed with no date."""
    try:
        manifest = _manifest(seeds_dir)
    except BaselineError as exc:
        return [str(exc)]
    where = seeds_dir / MANIFEST
    if not manifest.seed:
        return [f"{where}: no [[seed]]: a story needs at least one seed article"]
    problems = []
    for index, seed in enumerate(manifest.seed):
        at = f"{where}: seed[{index}] ({seed.name})"
        if seed.file is not None and not (seeds_dir / seed.file).is_file():
            problems.append(f"{at}: file not found in {seeds_dir}")
        elif seed.published is None and not _may_carry_date(seed):
            problems.append(f"{at}: no published date (a plain-text seed carries none)")
    return problems


def _may_carry_date(seed: _Seed) -> bool:
    """Whether the seed is a web page, whose own date may stand in for ``published``."""
    return seed.file is None or seed.file.lower().endswith(_HTML_SUFFIXES)


def read_seeds(seeds_dir: Path, fetch: PageFetcher | None = None) -> list[Article]:
    """The seed articles, with the title, date and URL their manifest gives.

    A plain-text file is taken as it is; an HTML file or a fetched URL goes
    through the same extraction as any page. Every seed needs a date: its
    own (a page's), else ``published`` in the manifest.
    """
    manifest = _manifest(seeds_dir)
    path = seeds_dir / MANIFEST
    if not manifest.seed:
        raise BaselineError(f"{path}: no [[seed]]: a story needs at least one seed article")
    articles = []
    for index, seed in enumerate(manifest.seed):
        where = f"{path}: seed[{index}] ({seed.name})"
        try:
            article = _seed_article(seeds_dir, seed, fetch)
        except (OSError, UnicodeDecodeError) as exc:
            raise BaselineError(f"{where}: cannot read: {exc}") from None
        except ExtractError as exc:
            raise BaselineError(f"{where}: {exc}") from None
        if article.published is None:
            raise BaselineError(f"{where}: no published date in the manifest, nor in the page")
        articles.append(article)
    return articles


def _seed_article(seeds_dir: Path, seed: _Seed, fetch: PageFetcher | None) -> Article:
    published = as_datetime(seed.published) if seed.published else None
    if seed.file is not None and not _may_carry_date(seed):
        return Article(
            url=seed.url or f"seed:{Path(seed.file).stem}",
            title=seed.title,
            text=(seeds_dir / seed.file).read_text(encoding="utf-8"),
            published=published,
        )
    if seed.file is not None:
        content = (seeds_dir / seed.file).read_bytes()
        url = seed.url or f"seed:{Path(seed.file).stem}"
    else:
        assert seed.url is not None
        if fetch is None:
            raise ExtractError("a URL seed, and nothing here may fetch it")
        content, url = fetch(seed.url), seed.url
    article = extract_html(content, url, fallback_title=seed.title, fallback_published=published)
    # What the manifest says wins over what the page says.
    return Article(
        url=url,
        title=seed.title or article.title,
        text=article.text,
        published=published or article.published,
        canonical_url=article.canonical_url,
    )


def derive_baseline(
    seeds_dir: Path,
    topic: Topic,
    pins: dict[str, Any] | None = None,
    policy: Policy | None = None,
    fetch: PageFetcher | None = None,
) -> Knowledge:
    """Knowledge from the seeds' facts, with pinned values put over them."""
    policy = policy or Policy()
    by_key: dict[str, list[Observation]] = defaultdict(list)
    for article in read_seeds(seeds_dir, fetch):
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
    if fact.kind == FactKind.STATUS:
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
    counted = [r for r in agreeing if r.qualifier != Qualifier.VAGUE]
    if fact.kind == FactKind.QUANTITY and len(agreeing) > 1 and counted:
        # Sources that agree within tolerance but word it differently: "about"
        # the middle value, with every wording kept as an alternative.
        value = int(statistics.median_low(int(r.value) for r in counted))
        current = Reading(value, Qualifier.ABOUT, as_of, sources)
        return KnownFact(key, fact.kind, current, Origin.SEEDS, (*agreeing, *others))
    current = Reading(main.value, main.qualifier, as_of, sources)
    return KnownFact(key, fact.kind, current, Origin.SEEDS, others)


def _precision(reading: Reading) -> int:
    qualifiers = (*DATE_PRECISIONS, *QUANTITY_QUALIFIERS)
    return -qualifiers.index(reading.qualifier) if reading.qualifier in qualifiers else 0


def _pinned(key: str, pin: Any, topic: Topic, derived: KnownFact | None) -> KnownFact:
    value, qualifier, given_as_of = normalise_pin(key, pin, topic)
    as_of = given_as_of or (derived.as_of if derived else None)
    derived_readings = (derived.current, *derived.alternatives) if derived else ()
    # The pinned value itself is not "also reported": only readings that differ from it.
    others = tuple(r for r in derived_readings if (r.value, r.qualifier) != (value, qualifier))
    fact = topic.fact(key)
    return KnownFact(key, fact.kind, Reading(value, qualifier, as_of), Origin.PINNED, others)


def normalise_pin(key: str, pin: Any, topic: Topic) -> tuple[str | int, str | None, date | None]:
    """A pin (a bare value, or a table) as value, qualifier and the date given, if any;
    a value a person sets (`watcher facts set`) is checked the same way."""
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
        as_of = _as_date(spec["as_of"]) if spec.get("as_of") is not None else None
        if fact.kind == FactKind.DATE:
            value = _as_date(value).isoformat()
            qualifier = qualifier or Precision.EXACT
            if qualifier not in DATE_PRECISIONS:
                raise ValueError(f"qualifier must be one of {', '.join(DATE_PRECISIONS)}")
        elif fact.kind == FactKind.QUANTITY:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("value must be a whole number")
            qualifier = qualifier or Qualifier.EXACT
            if qualifier not in QUANTITY_QUALIFIERS:
                raise ValueError(f"qualifier must be one of {', '.join(QUANTITY_QUALIFIERS)}")
        elif value not in fact.value_names:
            raise ValueError(f"value must be one of {', '.join(fact.value_names)}")
    except ValueError as exc:
        raise BaselineError(f"pins: {key}: {exc}") from None
    return value, qualifier, as_of


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)") from None
