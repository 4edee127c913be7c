"""What each page shows, as plain data for its template.

Every piece of article text reaches a template through
:class:`~watcher.alerts.render.SourceView` (one clean line, quotes cut at
600 characters, links only for http and https), and templates are
autoescaped: a title or quote from the open web is shown as text, never run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from watcher.alerts.outbox import OutgoingAlert
from watcher.alerts.render import SourceView, clean, http_url, status_text
from watcher.config import Config
from watcher.facts import knowledge
from watcher.facts.dates import Precision
from watcher.facts.known import Knowledge, KnownFact, Origin, Reading, describe
from watcher.facts.stories import Story
from watcher.facts.topic import Fact, Topic
from watcher.models import ChangeType, Evidence, FactChange, FactKind, SourceHealth
from watcher.store import Store, utcnow
from watcher.web import queries
from watcher.web.timeline import (
    Chart,
    Role,
    TimedReading,
    build_chart,
    readings_of,
    revised_from,
)

ORIGIN_LABELS = {
    Origin.SEEDS: "from the seed articles",
    Origin.PINNED: "pinned in the config",
    Origin.SET: "set by a person",
    Origin.OBSERVED: "observed since the seeds",
}
CHANGE_TYPE_LABELS = {
    ChangeType.NEW_VALUE: "first value",
    ChangeType.DATE_CHANGED: "date changed",
    ChangeType.STATUS_MOVED: "status moved on",
    ChangeType.COUNT_CHANGED: "count changed",
    ChangeType.CONFLICT: "dispute",
}


def _change_type_label(change_type: str) -> str:
    """ "status moved on"; a type from a newer release is shown as its name in words."""
    if change_type in CHANGE_TYPE_LABELS:
        return CHANGE_TYPE_LABELS[ChangeType(change_type)]
    return change_type.replace("_", " ")


@dataclass(frozen=True)
class Site:
    """What every page reads from: the config, its database and stories."""

    config: Config
    store: Store
    stories: list[Story]

    def story(self, name: str | None = None) -> Story | None:
        """The story named ``name``; without a name, the config's first."""
        if name is None:
            return self.stories[0]
        return next((s for s in self.stories if s.name == name), None)

    @property
    def topic(self) -> Topic:
        """The first story's topic."""
        return self.stories[0].topic

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.config.notify.timezone)

    def today(self) -> date:
        """Today on the wall clock of ``notify.timezone``, as digests count days."""
        return utcnow().astimezone(self.zone).date()

    def known(self, story: Story) -> Knowledge:
        return queries.known(self.store, story)

    def fact(self, key: str, story: Story | None = None) -> Fact | None:
        """Fact ``key`` of ``story``; without a story, of any story."""
        for candidate in [story] if story else self.stories:
            try:
                return candidate.topic.fact(key)
            except KeyError:
                continue
        return None


def sources_of(evidence: tuple[Evidence, ...]) -> list[SourceView]:
    return [SourceView.of(e) for e in evidence]


@dataclass(frozen=True)
class ReadingView:
    """A value as sources gave it: "about 1,000", as of a day, with who says so."""

    text: str
    as_of: date | None
    sources: list[SourceView]
    since: date | None = None  # first reported, when that was before as_of
    number: int = 0  # its place under a timeline (``reading-<number>``)
    role: str = Role.HELD
    status: str = ""  # a dispute's "reported by 1 source"
    # Set by an edited article: what it said before (see timeline.revised_from).
    revised_from: list[SourceView] = field(default_factory=list)

    @classmethod
    def of(cls, kind: str, reading: Reading) -> ReadingView:
        return cls(
            describe(kind, reading.value, reading.qualifier),
            reading.as_of,
            sources_of(reading.sources),
        )

    @classmethod
    def timed(cls, timed: TimedReading) -> ReadingView:
        status = status_text(timed.status, timed.reading.sources) if timed.status else ""
        as_of = timed.reading.as_of
        return cls(
            text=timed.text,
            as_of=as_of,
            since=timed.when if timed.when != as_of else None,
            sources=sources_of(timed.reading.sources),
            number=timed.number,
            role=timed.role,
            status=status,
            revised_from=sources_of(timed.revised_from),
        )


@dataclass(frozen=True)
class FactCard:
    """One fact as it stands, for the story page."""

    key: str
    label: str
    kind: str
    known: bool
    value: str = "unknown"
    as_of: date | None = None
    origin: str = ""
    origin_text: str = ""
    status: str = ""  # reported or confirmed, for a value a change set
    status_text: str = ""
    sources: tuple[SourceView, ...] = ()
    alternatives: tuple[ReadingView, ...] = ()
    disputes: tuple[ReadingView, ...] = ()
    # The value was set by an edited article: what it said before.
    revised_from: tuple[SourceView, ...] = ()

    @classmethod
    def of(cls, fact: Fact, known: KnownFact | None) -> FactCard:
        if known is None:
            return cls(fact.key, clean(fact.label), fact.kind, known=False)
        change = known.change
        return cls(
            key=fact.key,
            label=clean(fact.label),
            kind=fact.kind,
            known=True,
            value=describe(known.kind, known.value, known.qualifier),
            as_of=known.as_of,
            origin=known.origin,
            origin_text=ORIGIN_LABELS[known.origin],
            status=change.status if change else "",
            status_text=status_text(change.status, change.evidence) if change else "",
            sources=tuple(sources_of(known.sources)),
            revised_from=tuple(
                sources_of(
                    revised_from(known.current, known.history[-1] if known.history else None)
                )
            ),
            alternatives=tuple(ReadingView.of(known.kind, r) for r in known.alternatives),
            disputes=tuple(
                ReadingView(
                    text=describe(known.kind, c.new.value, c.new.qualifier),
                    as_of=c.new.as_of,
                    sources=sources_of(c.new.sources),
                    role=Role.DISPUTE,
                    status=status_text(c.status, c.evidence),
                )
                for c in known.conflicts
            ),
        )


def deadlines(known: Knowledge, topic: Topic) -> list[date]:
    """The dates the story works towards: date facts known to the day."""
    found = []
    for fact in topic.facts:
        held = known.get(fact.key)
        if fact.kind == FactKind.DATE and held and held.qualifier in (None, Precision.EXACT):
            found.append(date.fromisoformat(str(held.value)))
    return found


def story_choices(site: Site, chosen: Story) -> list[tuple[str, str, bool]]:
    """Every story as (name, title, whether it is the one shown), for the selector."""
    return [(s.name, clean(s.title), s is chosen) for s in site.stories]


def story_page(site: Site, story: Story) -> dict[str, Any]:
    known = site.known(story)
    topic = story.topic
    return {
        "title": clean(topic.title),
        "story": story.name,
        "stories": story_choices(site, story),
        "outlook": [clean(line) for line in knowledge.deadline_outlook(known, topic, site.today())],
        "facts": [FactCard.of(fact, known.get(fact.key)) for fact in topic.facts],
        "today": site.today(),
    }


def timeline_page(site: Site, story: Story, fact: Fact) -> dict[str, Any]:
    known = site.known(story)
    held = known.get(fact.key)
    readings = readings_of(held) if held else []
    chart: Chart = build_chart(fact, readings, deadlines(known, story.topic))
    return {
        "title": clean(fact.label),
        "story": story.name,
        "stories": story_choices(site, story),
        "fact": FactCard.of(fact, held),
        "chart": chart,
        "readings": [ReadingView.timed(r) for r in readings],
    }


@dataclass(frozen=True)
class ChangeCard:
    """One change, with every source and where its alerts went."""

    id: int
    story: str | None
    key: str
    label: str
    old: str
    new: str
    kind: str  # first value, status moved on, dispute, ...
    is_dispute: bool
    status: str
    first_seen: datetime
    as_of: date | None
    sources: list[SourceView]
    alerts: list[queries.AlertRow]
    # Read from an article's changed text; ``revised_from`` is what it said before.
    revision: bool = False
    revised_from: list[SourceView] = field(default_factory=list)

    @classmethod
    def of(cls, change: FactChange, sent: list[queries.AlertRow]) -> ChangeCard:
        return cls(
            id=change.change_id,
            story=change.story,
            key=change.key,
            label=clean(change.label),
            old=clean(change.old) if change.old else "unknown",
            new=clean(change.new),
            kind=_change_type_label(change.change_type),
            is_dispute=change.change_type == ChangeType.CONFLICT,
            status=status_text(change.status, change.evidence),
            first_seen=change.first_seen,
            as_of=change.as_of,
            sources=sources_of(change.evidence),
            alerts=sent,
            revision=change.revision,
            revised_from=sources_of(change.revised_from),
        )


CHANGES_PER_PAGE = 100


def changes_page(
    site: Site, *, key: str | None, story: str | None, page: int = 1
) -> dict[str, Any]:
    """Changes newest first, ``CHANGES_PER_PAGE`` a page (rendering thousands takes seconds)."""
    found = queries.changes(site.store, site.stories, key=key, story=story)
    newest_first = list(reversed(found))
    pages = max(1, -(-len(newest_first) // CHANGES_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = newest_first[(page - 1) * CHANGES_PER_PAGE : page * CHANGES_PER_PAGE]
    alerts = queries.alerts_by_change(site.store, [c.change_id for c in shown])
    return {
        "title": "Changes",
        "changes": [ChangeCard.of(c, alerts[c.change_id]) for c in shown],
        "total": len(newest_first),
        "first": (page - 1) * CHANGES_PER_PAGE + 1,
        "page": page,
        "pages": pages,
        "facts": list(
            {f.key: (f.key, clean(f.label)) for s in site.stories for f in s.topic.facts}.values()
        ),
        "stories": [s.name for s in site.stories],
        "chosen_fact": key or "",
        "chosen_story": story or "",
    }


class Standing(StrEnum):
    """How a source stands, as the sources page shows it."""

    OK = SourceHealth.OK
    FAILING = SourceHealth.FAILING  # a health alert said so
    SILENT = SourceHealth.SILENT  # a health alert said so
    LAST_POLL_FAILED = "last poll failed"  # failing, but not yet for long
    NOT_POLLED = "not polled yet"


@dataclass(frozen=True)
class SourceRow:
    name: str
    url: str
    link: str | None
    enabled: bool
    health: str
    health_since: datetime | None
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None
    consecutive_failures: int
    items: queries.ItemCounts

    @property
    def standing(self) -> Standing:
        """What its health alerts said; before one, whether its last poll failed, or
        whether it was polled at all."""
        if self.health in (Standing.FAILING, Standing.SILENT):
            return Standing(self.health)
        if self.consecutive_failures:
            return Standing.LAST_POLL_FAILED
        return Standing.OK if self.last_attempt else Standing.NOT_POLLED


def sources_page(site: Site) -> dict[str, Any]:
    states = queries.source_states(site.store)
    counts = queries.item_counts(site.store)
    rows = []
    for source in site.config.sources:
        state = states.get(source.name)
        rows.append(
            SourceRow(
                name=clean(source.name),
                url=clean(source.url),
                link=http_url(source.url),
                enabled=source.enabled,
                health=state.health if state else SourceHealth.OK,
                health_since=state.health_since if state else None,
                last_attempt=state.last_attempt if state else None,
                last_success=state.last_success if state else None,
                last_error=clean(state.last_error) if state and state.last_error else None,
                consecutive_failures=state.consecutive_failures if state else 0,
                items=counts.get(source.name, queries.ItemCounts()),
            )
        )
    return {"title": "Sources", "sources": rows}


def outbox_page(site: Site) -> dict[str, Any]:
    listed: list[OutgoingAlert] = queries.open_alerts(site.config, site.store)
    totals = queries.alert_totals(site.store)
    return {
        "title": "Outbox",
        "alerts": listed,
        "totals": sorted(totals.items()),
    }
