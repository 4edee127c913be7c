"""Plain data passed from one stage to the next.

Every stage takes and returns these; none of them knows about the database
or the network, so each stage can be tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


def site_of(url: str) -> str:
    """The site a URL belongs to, used to tell independent sources apart."""
    host = (urlsplit(url).hostname or url).lower()
    return host.removeprefix("www.")


class FactKind(StrEnum):
    """What sort of value a fact holds (``Observation.kind``)."""

    DATE = "date"  # an ISO date string
    QUANTITY = "quantity"  # an int, with a count's qualifier
    STATUS = "status"  # a name on the fact's ladder


class ChangeType(StrEnum):
    """How a fact changed (``change_type`` of a change)."""

    NEW_VALUE = "new_value"  # a fact with no value before
    DATE_CHANGED = "date_changed"
    STATUS_MOVED = "status_moved"  # further on its ladder
    COUNT_CHANGED = "count_changed"  # outside the tolerance
    CONFLICT = "conflict"  # sources disagree; the current value stays


class AlertKind(StrEnum):
    """What an alert is about (the ``alerts.kind`` column)."""

    CHANGE = "change"  # a fact change
    CORRECTION = "correction"  # a notice that a change already alerted was rejected
    HEALTH = "health"  # a source failing, silent or recovered: not a fact change
    DIGEST = "digest"  # a period's changes
    TEST = "test"  # a sample sent by `watcher notify test`: never stored


class SourceHealth(StrEnum):
    """How a source's health alerts left it (the ``sources.health`` column)."""

    OK = "ok"
    FAILING = "failing"  # notify.health_failures failed polls in a row
    SILENT = "silent"  # nothing new for notify.health_silence


class AlertState(StrEnum):
    """Where an alert is in the outbox (the ``alerts.state`` column)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # The sender stopped between sending and recording: it may have arrived.
    UNCERTAIN = "uncertain"
    # Never to be sent: the change it was about was rejected before it went out.
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, before its article is fetched."""

    source: str
    item_id: str
    link: str | None
    title: str | None
    published: datetime | None
    summary: str | None = None


@dataclass(frozen=True)
class Article:
    """An article's extracted text and metadata."""

    url: str
    title: str | None
    text: str
    published: datetime | None
    canonical_url: str | None = None
    source: str | None = None

    @property
    def site(self) -> str:
        """The site it was fetched from. Not the canonical link: any page can claim
        any canonical site, and independent sources are counted by site."""
        return site_of(self.url)

    @property
    def published_date(self) -> date | None:
        return self.published.date() if self.published else None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "canonical_url": self.canonical_url,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "source": self.source,
            "text": self.text,
        }


@dataclass(frozen=True)
class Evidence:
    """What shows a value: the sentence as it appears and where it was read."""

    quote: str
    url: str
    title: str | None
    published: date | None
    site: str = ""
    # Which version of the article the quote was read from: 0 the text first fetched,
    # 1 the first changed text a revisit found, and so on.
    revision: int = 0

    def __post_init__(self) -> None:
        if not self.site:
            object.__setattr__(self, "site", site_of(self.url))

    def revises(self, earlier: Evidence) -> bool:
        """Whether this quote is from a later version of the article ``earlier`` is from."""
        return self.url == earlier.url and self.revision > earlier.revision

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "quote": self.quote,
            "url": self.url,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "site": self.site,
        }
        if self.revision:
            data["revision"] = self.revision
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(
            quote=data["quote"],
            url=data["url"],
            title=data.get("title"),
            published=_day(data.get("published")),
            site=data.get("site") or "",
            revision=data.get("revision") or 0,
        )


@dataclass(frozen=True)
class Observation:
    """One value of one fact, read from one sentence of one article.

    ``value`` is an ISO date string for dates, an int for quantities and a
    status name for statuses. ``qualifier`` is exact/about/more_than/fewer_than
    for quantities, and for other kinds may say how firm the value is.
    """

    key: str
    kind: FactKind
    value: str | int
    qualifier: str | None
    as_of: date | None
    evidence: Evidence
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The fact shape of the CLI contract, plus where the quote came from (and, when
        it is from a changed text of the article, which revision)."""
        data: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind,
            "value": self.value,
            "qualifier": self.qualifier,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "quote": self.evidence.quote,
            "source": self.evidence.url,
            "source_title": self.evidence.title,
            "published": self.evidence.published.isoformat() if self.evidence.published else None,
        }
        if self.evidence.revision:
            data["revision"] = self.evidence.revision
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observation:
        """An observation as stored (:meth:`to_json`); ``extra`` is not kept."""
        return cls(
            key=data["key"],
            kind=FactKind(data["kind"]),
            value=data["value"],
            qualifier=data.get("qualifier"),
            as_of=_day(data.get("as_of")),
            evidence=Evidence(
                quote=data["quote"],
                url=data["source"],
                title=data.get("source_title"),
                published=_day(data.get("published")),
                revision=data.get("revision") or 0,
            ),
        )


class ChangeStatus(StrEnum):
    """Where a stored change stands."""

    REPORTED = "reported"  # by fewer independent sites than facts.confirm_sources
    CONFIRMED = "confirmed"
    # Folding every observation again in order (one arrived late) gave the fact
    # another path: this change is kept, with its alerts, but no longer listed.
    SUPERSEDED = "superseded"
    # A person said it was read wrongly (`watcher facts reject`): kept, shown as
    # rejected, and its observations no longer count.
    REJECTED = "rejected"


@dataclass(frozen=True)
class FactChange:
    """A change of one fact, as alerts and digests show it.

    Stage: alerts, the web view and ``--json``. A stored change (RecordedChange)
    presented for people: labels and described values from its topic, the machine
    values beside them. It is what an alert's payload holds, and what health and
    correction notices borrow to be shown like changes (``change_type`` is then
    their AlertKind, not a ChangeType).

    ``old`` and ``new`` are display-ready values (``"2024-09-15"``,
    ``"about 1,000"``, ``"handed over"``); ``old_value`` and ``new_value``
    are the machine values beside them (``"2024-09-15"``, ``1000``,
    ``"handed_over"``), with the qualifiers (``about``, ``more_than``...) of
    counts and dates. ``status`` is reported or confirmed.
    ``revision`` marks a change read from an article's changed text (a revisit
    found it edited); ``revised_from`` keeps what that article said before.
    ``story_title`` is its story's title (from the topic), kept with the change so
    an alert queued now names its story as it was called then.
    """

    change_id: int
    key: str
    label: str
    change_type: str  # a ChangeType; on a health or correction notice, its AlertKind
    old: str | None
    new: str
    status: str
    first_seen: datetime
    evidence: tuple[Evidence, ...]
    as_of: date | None = None
    old_value: str | int | None = None
    new_value: str | int | None = None
    old_qualifier: str | None = None
    new_qualifier: str | None = None
    story: str | None = None  # the story it belongs to
    revision: bool = False
    revised_from: tuple[Evidence, ...] = ()
    story_title: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "change_id": self.change_id,
            "story": self.story,
            "story_title": self.story_title,
            "key": self.key,
            "label": self.label,
            "change_type": self.change_type,
            "old": self.old,
            "new": self.new,
            "old_value": self.old_value,
            "new_value": self.new_value,
            "old_qualifier": self.old_qualifier,
            "new_qualifier": self.new_qualifier,
            "status": self.status,
            "first_seen": self.first_seen.isoformat(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "evidence": [e.to_json() for e in self.evidence],
            "revision": self.revision,
            "revised_from": [e.to_json() for e in self.revised_from],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FactChange:
        return cls(
            change_id=data["change_id"],
            key=data["key"],
            label=data["label"],
            change_type=data["change_type"],
            old=data.get("old"),
            new=data["new"],
            status=data["status"],
            first_seen=datetime.fromisoformat(data["first_seen"]),
            evidence=tuple(Evidence.from_json(e) for e in data.get("evidence", [])),
            as_of=_day(data.get("as_of")),
            old_value=data.get("old_value"),
            new_value=data.get("new_value"),
            old_qualifier=data.get("old_qualifier"),
            new_qualifier=data.get("new_qualifier"),
            story=data.get("story"),
            story_title=data.get("story_title"),
            revision=data.get("revision", False),
            revised_from=tuple(Evidence.from_json(e) for e in data.get("revised_from", [])),
        )


@dataclass(frozen=True)
class CurrentFact:
    """A tracked fact's current value, for digests."""

    key: str
    label: str
    value: str | None
    as_of: date | None
    source: Evidence | None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "source": self.source.to_json() if self.source else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CurrentFact:
        source = data.get("source")
        return cls(
            key=data["key"],
            label=data["label"],
            value=data.get("value"),
            as_of=_day(data.get("as_of")),
            source=Evidence.from_json(source) if source else None,
        )


@dataclass(frozen=True)
class Digest:
    """A period's changes, the current facts and what is coming."""

    title: str
    period_start: datetime
    period_end: datetime
    changes: tuple[FactChange, ...]
    facts: tuple[CurrentFact, ...]
    outlook: tuple[str, ...]
    story: str | None = None  # the story it covers
    story_title: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "story": self.story,
            "story_title": self.story_title,
            "title": self.title,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "changes": [c.to_json() for c in self.changes],
            "facts": [f.to_json() for f in self.facts],
            "outlook": list(self.outlook),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Digest:
        return cls(
            title=data["title"],
            period_start=datetime.fromisoformat(data["period_start"]),
            period_end=datetime.fromisoformat(data["period_end"]),
            changes=tuple(FactChange.from_json(c) for c in data.get("changes", [])),
            facts=tuple(CurrentFact.from_json(f) for f in data.get("facts", [])),
            outlook=tuple(data.get("outlook", [])),
            story=data.get("story"),
            story_title=data.get("story_title"),
        )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
