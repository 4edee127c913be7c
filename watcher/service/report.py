"""What a pass reports: per source, per article that failed, per change; and its JSON.

These are what ``watcher check`` prints (``--json`` gives :meth:`CheckReport.to_json`)
and what the daemon logs after each poll.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from watcher.alerts.health import HealthEvent
from watcher.counters import FailureReason
from watcher.facts.known import ChangeEvent
from watcher.models import Article, FactChange


class PollStatus(StrEnum):
    """What one source gave in a pass (``SourceReport.status``, and the ``outcome`` of
    the polls metric). NOT_MODIFIED and UNCHANGED are the ingest's PollOutcome of the
    same names; a feed read gave NEW or NOTHING_NEW."""

    NEW = "new"  # new or revised articles stored
    NOTHING_NEW = "nothing_new"
    NOT_MODIFIED = "not_modified"  # 304
    UNCHANGED = "unchanged"  # the same body as last time
    FAILED = "failed"


@dataclass
class ArticleFailure:
    url: str
    reason: str
    gave_up: bool
    # For the metrics: a fetch error's kind (timeout, http_status...), extract, out_of_time
    # or internal.
    kind: str = FailureReason.INTERNAL

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "reason": self.reason, "gave_up": self.gave_up}


@dataclass(frozen=True)
class ReportedChange:
    """A fact change a pass created or added to, and the alerts it queued.

    Stage: the pass's report. Not another change type: the FactChange that the alerts
    carry (``change``), with what this pass did to it and the channels it alerted, as
    ``watcher check`` prints it.
    """

    change: FactChange
    event: ChangeEvent
    alerts: tuple[str, ...] = ()

    @property
    def is_news(self) -> bool:
        """A change first reported, or confirmed, in this pass; corroboration is not,
        nor a correction of where a change started."""
        return self.event in (ChangeEvent.NEW, ChangeEvent.CONFIRMED)

    def to_json(self) -> dict[str, Any]:
        return {**self.change.to_json(), "event": self.event, "alerts": list(self.alerts)}


@dataclass
class SourceReport:
    """What one source gave in one pass."""

    name: str
    url: str
    status: PollStatus = PollStatus.NOTHING_NEW
    error: str | None = None
    feed_problem: str | None = None
    # What was read (feed, page, sitemap), from where, and how a site's feed was found.
    kind: str | None = None
    polled_url: str | None = None
    notes: list[str] = field(default_factory=list)
    # None when the feed was not read this pass (304, the same body, a failure).
    items_in_feed: int | None = None
    new_items: int = 0
    # New items not fetched: their title and summary name nothing of the story
    # (the source's fetch = "relevant").
    unrelated: int = 0
    # Articles not started before the time budget ran out: fetched next pass.
    deferred: int = 0
    articles: list[Article] = field(default_factory=list)
    # Articles fetched again (conditional GET), and those whose text had changed.
    revisited: int = 0
    revised: list[Article] = field(default_factory=list)
    failures: list[ArticleFailure] = field(default_factory=list)
    changes: list[ReportedChange] = field(default_factory=list)
    health: HealthEvent | None = None
    # Why it failed, for the metrics: a fetch error's kind, not_a_feed, out_of_time or internal.
    failure_reason: str | None = None

    def to_json(self, *, with_text: bool = True) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "feed_problem": self.feed_problem,
            "kind": self.kind,
            "polled_url": self.polled_url,
            "notes": self.notes,
            "items_in_feed": self.items_in_feed,
            "new_items": self.new_items,
            "unrelated": self.unrelated,
            "deferred": self.deferred,
            "articles": [
                {k: v for k, v in a.to_json().items() if with_text or k != "text"}
                for a in self.articles
            ],
            "failures": [f.to_json() for f in self.failures],
            "revisited": self.revisited,
            "revised": [
                {k: v for k, v in a.to_json().items() if with_text or k != "text"}
                for a in self.revised
            ],
            "changes": [c.to_json() for c in self.changes],
            "health": self.health.to_json() if self.health else None,
        }


@dataclass
class CheckReport:
    sources: list[SourceReport]
    started: datetime
    finished: datetime

    @property
    def new_articles(self) -> int:
        return sum(len(s.articles) for s in self.sources)

    @property
    def revised_articles(self) -> int:
        return sum(len(s.revised) for s in self.sources)

    @property
    def changes(self) -> list[ReportedChange]:
        return [c for s in self.sources for c in s.changes]

    @property
    def fact_changes(self) -> list[ReportedChange]:
        """Changes first reported or confirmed in this pass (not mere corroboration)."""
        return [c for c in self.changes if c.is_news]

    @property
    def found_something(self) -> bool:
        """New or revised articles, or fact changes: what makes ``watcher check`` exit 1
        by default."""
        return bool(self.new_articles or self.revised_articles or self.fact_changes)

    @property
    def failed_sources(self) -> list[SourceReport]:
        return [s for s in self.sources if s.status == PollStatus.FAILED]

    def to_json(self, *, with_text: bool = True) -> dict[str, Any]:
        return {
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "new_articles": self.new_articles,
            "revised_articles": self.revised_articles,
            "sources": [s.to_json(with_text=with_text) for s in self.sources],
            "changes": [c.to_json() for c in self.changes],
        }
