"""A pass's polls: each source's feed read, its new items picked, and its articles
fetched and read until the source's time budget runs out.

What a poll finds waits in a :class:`Fetched` for :mod:`watcher.service.recording`
to write; nothing here writes to the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from watcher.config import Config, FetchPolicy, Source
from watcher.counters import FailureReason
from watcher.facts.relevance import Relevance
from watcher.ingest.fetch import Fetcher
from watcher.ingest.poll import PollError, PollOutcome, Remembered, poll_source
from watcher.models import FeedItem
from watcher.service.articles import InFlight, Problem, Read, Unchanged, one_line
from watcher.service.report import PollStatus, SourceReport
from watcher.store import DueRevisit, PendingItem, SourceState, Store, utcnow

# The pass's log, whichever of its modules writes to it.
log = logging.getLogger("watcher.service.check")

T = TypeVar("T")


@dataclass
class Fetched:
    """A source's network results, waiting to be written."""

    source: Source
    report: SourceReport
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    feed_url: str | None = None
    new_items: list[FeedItem] = field(default_factory=list)
    # Ids of new items whose article is not fetched (see Relevance).
    unrelated: set[str] = field(default_factory=set)
    done: list[tuple[PendingItem, Read]] = field(default_factory=list)
    failed: list[tuple[PendingItem, Problem]] = field(default_factory=list)
    # Revisits and what each found: a text read again, the same page (304), or a failure.
    revisited: list[tuple[DueRevisit, Read | Unchanged | Problem]] = field(default_factory=list)
    deadline: float = float("inf")  # event-loop time when this source's budget runs out
    budget: str = ""  # the setting that set the deadline, and its value

    @property
    def quiet(self) -> bool:
        """Whether the poll found nothing to store: its feed unchanged, or no item new to it."""
        report = self.report
        return (
            report.status in (PollStatus.NOT_MODIFIED, PollStatus.UNCHANGED, PollStatus.NOTHING_NEW)
            and not self.new_items
            and not self.done
            and not self.failed
            and not self.revisited
            and not report.deferred
        )

    def out_of_time(self) -> str:
        return f"the time budget ran out ({self.budget})"

    def internal_error(self, exc: Exception) -> None:
        """One source's bug: it fails alone (the traceback in the log under -v)."""
        log.error(
            "source %s: unexpected error: %s",
            self.source.name,
            one_line(exc),
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        self.report.status = PollStatus.FAILED
        self.report.error = f"internal error: {one_line(exc)}"
        self.report.failure_reason = FailureReason.INTERNAL


async def _reading(work: Callable[..., T], *args: Any) -> T:
    """A database read, off the event loop."""
    return await asyncio.to_thread(work, *args)


class Polling:
    """How a pass polls each of its sources, within their budgets.

    ``relevance`` gives the stories' names, compiled when a feed first has new
    items to judge; ``with_pending`` names the sources with articles to fetch
    again (earlier failures, or revisits due); ``pass_deadline`` is the event-loop
    time when ``check.pass_budget`` runs out.
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        articles: InFlight,
        *,
        relevance: Callable[[], Relevance],
        with_pending: set[str],
        pass_deadline: float,
    ) -> None:
        self.config = config
        self.store = store
        self.articles = articles
        self.relevance = relevance
        self.with_pending = with_pending
        self.pass_deadline = pass_deadline

    def start(self, source: Source) -> Fetched:
        """A source's poll, with its deadline: its own budget, or the pass's if that
        ends first."""
        fetched = Fetched(source, SourceReport(source.name, source.url))
        check = self.config.check
        own = asyncio.get_running_loop().time() + check.source_budget
        fetched.deadline = min(own, self.pass_deadline)
        if self.pass_deadline < own:
            fetched.budget = f"check.pass_budget, {check.pass_budget:g}s"
        else:
            fetched.budget = f"check.source_budget, {check.source_budget:g}s"
        return fetched

    async def fetch_feed(self, fetcher: Fetcher, fetched: Fetched, state: SourceState) -> None:
        """Poll the source (feed, site, page or sitemap) and keep the items not seen yet."""
        source, report = fetched.source, fetched.report
        fetched.etag, fetched.last_modified = state.etag, state.last_modified
        fetched.body_hash, fetched.feed_url = state.body_hash, state.feed_url
        remembered = Remembered(state.etag, state.last_modified, state.body_hash, state.feed_url)
        try:
            polled = await poll_source(fetcher, source, remembered)
        except PollError as exc:
            report.status, report.error = PollStatus.FAILED, str(exc)
            report.failure_reason = exc.reason
            return
        report.kind, report.polled_url, report.notes = polled.kind, polled.url, polled.notes
        fetched.etag, fetched.last_modified = polled.etag, polled.last_modified
        fetched.feed_url = polled.feed_url
        if polled.outcome == PollOutcome.NOT_MODIFIED:
            report.status = PollStatus.NOT_MODIFIED
            return
        if polled.outcome == PollOutcome.UNCHANGED or polled.feed is None:
            report.status = PollStatus.UNCHANGED
            return
        feed = polled.feed
        fetched.body_hash = polled.body_hash
        report.feed_problem = feed.problem
        report.items_in_feed = len(feed.items)
        known = await _reading(
            self.store.known_item_ids, source.name, [i.item_id for i in feed.items]
        )
        fetched.new_items = [i for i in feed.items if i.item_id not in known]
        report.new_items = len(fetched.new_items)
        if source.fetch == FetchPolicy.RELEVANT and fetched.new_items:
            relevance = self.relevance()
            fetched.unrelated = {
                i.item_id
                for i in fetched.new_items
                if i.link and not relevance.worth_fetching(i.title, i.summary)
            }
            report.unrelated = len(fetched.unrelated)

    def _to_fetch(self, fetched: Fetched) -> list[PendingItem]:
        """Articles to fetch this pass: earlier failures to retry, then new items."""
        settings = self.config.articles
        retries = self.store.pending_items(
            fetched.source.name, settings.max_attempts, settings.max_per_source
        )
        new = [
            PendingItem(i.source, i.item_id, i.link, i.title, i.published, 0)
            for i in sorted(
                fetched.new_items,
                key=lambda i: i.published.timestamp() if i.published else 0.0,
                reverse=True,
            )
            if i.link and i.item_id not in fetched.unrelated
        ]
        return (retries + new)[: settings.max_per_source]

    def _due_revisits(self, fetched: Fetched, room: int) -> list[DueRevisit]:
        """The source's articles due to be fetched again, in what room this pass has left."""
        if self.config.articles.revisit <= 0:
            return []
        return self.store.due_revisits(fetched.source.name, utcnow(), room)

    async def fetch_articles(self, fetcher: Fetcher, fetched: Fetched) -> None:
        """Fetch and read the source's articles, then revisit the ones due, until its
        deadline; the rest wait."""
        if not fetched.new_items and fetched.source.name not in self.with_pending:
            return
        pending = await _reading(self._to_fetch, fetched)
        room = self.config.articles.max_per_source - len(pending)
        revisits = await _reading(self._due_revisits, fetched, room)
        self.articles.total += len(pending) + len(revisits)
        if not pending and not revisits:
            return
        # Workers start while the first pages download (and are read in a thread).
        self.articles.readers().warm_up_soon(self.articles.total)
        started: set[str] = set()
        tasks = [
            asyncio.create_task(self.articles.fetch(fetcher, fetched.source.name, item, started))
            for item in pending
        ]
        revisit_tasks = [
            asyncio.create_task(self.articles.revisit(fetcher, fetched.source.name, revisit))
            for revisit in revisits
        ]
        left = max(0.0, fetched.deadline - asyncio.get_running_loop().time())
        _, late = await asyncio.wait(tasks + revisit_tasks, timeout=left)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for item, task in zip(pending, tasks, strict=True):
            if task not in late:
                outcome = task.result()
                if isinstance(outcome, Problem):
                    fetched.failed.append((item, outcome))
                else:
                    fetched.done.append((item, outcome))
            elif item.item_id in started:
                cut = f"{item.link}: cut off: {fetched.out_of_time()}"
                fetched.failed.append((item, Problem(cut, FailureReason.OUT_OF_TIME)))
            else:
                fetched.report.deferred += 1
        # A revisit cut off is simply due again next pass.
        fetched.revisited = [
            (revisit, task.result())
            for revisit, task in zip(revisits, revisit_tasks, strict=True)
            if task not in late
        ]
