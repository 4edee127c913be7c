"""One pass over every enabled source: from feed to article, facts, changes and alerts.

Network work for all sources runs concurrently; each source's results are
then written in one transaction: its articles, their observations, the
knowledge and changes they lead to, and the alerts those cause. Every
source feeds every story: an article is fetched and extracted once, and
read for each story it is about; each story's changes go to its channels. A crash
mid-pass loses nothing (what was not written is fetched again next time)
and cannot leave a change without its alerts, or an alert without its change.

A pass is bounded in time: each source has ``check.source_budget`` for its
feed and articles, and nothing goes on past ``check.pass_budget``. Articles
not started by then wait for the next pass; those cut off count one try.
Each source is written, and its alerts handed to ``on_written``, as soon as
it is done, so a slow site delays only itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Connection

from watcher.alerts.atom import build_feed, write_feed
from watcher.alerts.health import HealthEvent, health_events
from watcher.alerts.outbox import enqueue_change, enqueue_health
from watcher.config import Config, FetchPolicy, Source
from watcher.counters import Counter, FailureReason, Tally
from watcher.facts import knowledge
from watcher.facts.compare import ChangeEvent
from watcher.facts.relevance import Relevance
from watcher.facts.stories import Story, load_stories
from watcher.ingest.extract import ExtractError
from watcher.ingest.fetch import Fetcher, FetchError
from watcher.ingest.poll import PollError, PollOutcome, Remembered, poll_source
from watcher.models import Article, FactChange, FeedItem, Observation
from watcher.service.leases import shared_turns
from watcher.service.revisits import next_revisit
from watcher.store import (
    DueRevisit,
    PendingItem,
    SourcePoll,
    SourceState,
    Store,
    StoreError,
    text_hash,
    utcnow,
)

if TYPE_CHECKING:
    # Imported when a pass has articles to read: one where every feed answers 304
    # never loads the extractor, nor starts a worker.
    from watcher.service.workers import Readers

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
# Called with each source's report once it is written (to send its alerts at once).
OnWritten = Callable[["SourceReport"], Awaitable[None]]
# Called first in each transaction that records polls (a worker checks its lease
# there: its Checker polls the one source it claimed); raising drops what they found.
Settle = Callable[[Connection], None]
T = TypeVar("T")

# Articles fetched or being read at once: enough to keep the network and every
# reader busy, few enough that memory does not grow with the size of a pass.
MIN_IN_FLIGHT = 16
# How long sources that gave nothing new wait for others to be recorded with them:
# while others keep joining (within QUIET_LINGER of each other), up to QUIET_HOLD.
QUIET_LINGER = 0.5
QUIET_HOLD = 2.0


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
    """A fact change a pass created or added to, and the alerts it queued."""

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
    # new, nothing_new, not_modified (304), unchanged (same body), failed
    status: str = "nothing_new"
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
        return [s for s in self.sources if s.status == "failed"]

    def to_json(self, *, with_text: bool = True) -> dict[str, Any]:
        return {
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "new_articles": self.new_articles,
            "revised_articles": self.revised_articles,
            "sources": [s.to_json(with_text=with_text) for s in self.sources],
            "changes": [c.to_json() for c in self.changes],
        }


@dataclass
class _Fetched:
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
    done: list[tuple[PendingItem, _Read]] = field(default_factory=list)
    failed: list[tuple[PendingItem, _Problem]] = field(default_factory=list)
    # Revisits and what each found: a text read again, the same page (304), or a failure.
    revisited: list[tuple[DueRevisit, _Read | _Unchanged | _Problem]] = field(default_factory=list)
    deadline: float = float("inf")  # event-loop time when this source's budget runs out
    budget: str = ""  # the setting that set the deadline, and its value


@dataclass(frozen=True)
class _Problem:
    """Why an article failed: a line for people, and its kind for the metrics."""

    reason: str
    kind: str


@dataclass(frozen=True)
class _Read:
    """An article fetched and read, with the page's validators for revisiting it."""

    article: Article
    observations: dict[str, list[Observation]]  # by story, as the readers give them
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class _Unchanged:
    """A revisit the server answered 304 Not Modified."""

    etag: str | None
    last_modified: str | None


class Checker:
    """Runs passes; holds what passes share (the store, the settings, the stories)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        stories: list[Story] | None = None,
        readers: Readers | None = None,
        progress: Progress | None = None,
        on_written: OnWritten | None = None,
        keep_text: bool = True,
        settle: Settle | None = None,
    ) -> None:
        """``keep_text=False`` drops each article's text from the report once it is
        stored (the report keeps its title, date and link): a large pass then holds
        no more text than its articles in flight."""
        self.config = config
        self.settle = settle
        self.store = store
        self.stories = stories if stories is not None else load_stories(config)
        self.readers = readers
        self._own_readers = readers is None
        self.policy = knowledge.policy_of(config)
        self.channels = config.notify.channels()
        self.progress = progress
        self.on_written = on_written
        self.keep_text = keep_text
        self._relevance_of: Relevance | None = None
        self._articles_total = 0
        self._articles_done = 0
        self._in_flight: asyncio.Semaphore | None = None
        self._host_turns: dict[str, asyncio.Semaphore] = {}
        self._pass_deadline = float("inf")
        # Sources that gave nothing new, waiting to be recorded together; and how many
        # feeds are still being fetched (when none is, the batch is written).
        self._quiet: list[tuple[_Fetched, asyncio.Future[None]]] = []
        self._quiet_writer: asyncio.Task[None] | None = None
        self._feeds_to_read = 0
        self._feeds_read = asyncio.Event()
        # Sources with articles to fetch again (earlier failures, or revisits due), read
        # once per pass.
        self._with_pending: set[str] = set()

    async def run(
        self, sources: list[Source] | None = None, *, fetcher: Fetcher | None = None
    ) -> CheckReport:
        """Poll ``sources`` (default: every enabled one) concurrently.

        ``fetcher`` is one shared with other passes (the daemon's), so its per-host
        limits hold across them; without one, the pass opens its own.
        """
        started, clock = utcnow(), time.monotonic()
        await self._writing(
            knowledge.install_stories, self.store, self.stories, at=started, policy=self.policy
        )
        sources = self.config.enabled_sources() if sources is None else sources
        workers = self.readers.workers if self.readers else worker_count(self.config)
        self._in_flight = asyncio.Semaphore(max(MIN_IN_FLIGHT, 4 * workers))
        self._pass_deadline = asyncio.get_running_loop().time() + self.config.check.pass_budget
        try:
            async with contextlib.AsyncExitStack() as stack:
                if fetcher is None:
                    own = Fetcher(self.config.http, turns=shared_turns(self.store))
                    fetcher = await stack.enter_async_context(own)
                states = await self._reading(
                    self.store.source_states, {s.name: s.url for s in sources}
                )
                self._with_pending = await self._reading(
                    self.store.sources_with_pending,
                    [s.name for s in sources],
                    self.config.articles.max_attempts,
                    utcnow() if self.config.articles.revisit > 0 else None,
                )
                self._feeds_to_read = len(sources)
                self._feeds_read = asyncio.Event()
                async with asyncio.TaskGroup() as group:
                    polls = [
                        group.create_task(self._poll(fetcher, s, states[s.name])) for s in sources
                    ]
            reports = [poll.result() for poll in polls]
        except ExceptionGroup as failed:
            # A store that cannot be written ends the pass: the first cause, as it was raised.
            raise failed.exceptions[0] from None
        finally:
            if self._own_readers and self.readers is not None:
                self.readers.close()
                self.readers = None
        report = CheckReport(sources=list(reports), started=started, finished=utcnow())
        await self._writing(self._tally_pass, time.monotonic() - clock)
        if report.changes:
            await self._writing(self._write_atom)
        return report

    def _relevance(self) -> Relevance:
        """The stories' names, compiled when a feed first has new items to judge."""
        if self._relevance_of is None:
            self._relevance_of = Relevance(story.topic for story in self.stories)
        return self._relevance_of

    def _readers(self) -> Readers:
        """The readers, made when the pass first has an article to read."""
        if self.readers is None:
            self.readers = readers_for(self.config, self.stories)
        return self.readers

    def _tally_pass(self, seconds: float) -> None:
        tally = Tally()
        tally.observe_pass(seconds)
        with self.store.transaction() as conn:
            tally.write(conn)

    async def _reading(self, work: Callable[..., T], *args: Any) -> T:
        """A database read, off the event loop."""
        return await asyncio.to_thread(work, *args)

    async def _writing(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Database writes, off the event loop and one at a time in this process: a
        writer waiting for SQLite's lock (another process writing) must not hold up
        every fetch in flight, nor every worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.store.writer(), partial(work, *args, **kwargs))

    def _deadline(self, fetched: _Fetched) -> None:
        """Set the source's deadline: its own budget, or the pass's if that ends first."""
        check = self.config.check
        own = asyncio.get_running_loop().time() + check.source_budget
        fetched.deadline = min(own, self._pass_deadline)
        if self._pass_deadline < own:
            fetched.budget = f"check.pass_budget, {check.pass_budget:g}s"
        else:
            fetched.budget = f"check.source_budget, {check.source_budget:g}s"

    @staticmethod
    def _out_of_time(fetched: _Fetched) -> str:
        return f"the time budget ran out ({fetched.budget})"

    async def _poll(self, fetcher: Fetcher, source: Source, state: SourceState) -> SourceReport:
        """Poll one source; whatever goes wrong stays with this source."""
        fetched = _Fetched(source, SourceReport(source.name, source.url))
        self._deadline(fetched)
        try:
            try:
                async with asyncio.timeout_at(fetched.deadline):
                    await self._fetch_feed(fetcher, fetched, state)
            except TimeoutError:
                fetched.report.status = "failed"
                fetched.report.error = f"{source.url}: no feed read: {self._out_of_time(fetched)}"
                fetched.report.failure_reason = FailureReason.OUT_OF_TIME
            finally:
                self._feed_read()
            if fetched.report.status != "failed":
                await self._fetch_articles(fetcher, fetched)
        except StoreError:
            raise  # the database, not this source: nothing more can be recorded
        except Exception as exc:  # one source's bug must not end the pass
            self._internal_error(fetched, exc)
        if _quiet(fetched):
            await self._record_quietly(fetched)
        else:
            await self._writing(self._record, fetched)
        if self.on_written is not None:
            await self.on_written(fetched.report)
        return fetched.report

    def _record(self, fetched: _Fetched) -> None:
        """Store what a source gave, then judge its health (one trip to the writer)."""
        try:
            self._write(fetched)
        except StoreError:
            raise
        except Exception as exc:
            self._internal_error(fetched, exc)
            self._write_failure(fetched)
        fetched.report.health = self._check_health(fetched.source)

    async def _record_quietly(self, fetched: _Fetched) -> None:
        """Record a source that gave nothing new together with the others that finish
        at about the same time: one transaction for all of them, not one each."""
        done = asyncio.get_running_loop().create_future()
        self._quiet.append((fetched, done))
        if self._quiet_writer is None or self._quiet_writer.done():
            self._quiet_writer = asyncio.create_task(self._write_quiet())
        await asyncio.shield(done)

    def _feed_read(self) -> None:
        self._feeds_to_read -= 1
        if self._feeds_to_read <= 0:
            self._feeds_read.set()

    async def _write_quiet(self) -> None:
        loop = asyncio.get_running_loop()
        while self._quiet:
            # Wait for the other feeds (a warm pass: all of them answer within moments,
            # but on a busy machine they trickle in), but never long: a slow feed must
            # not hold the others' health alerts.
            held_until = loop.time() + QUIET_HOLD
            waited_for = -1
            while len(self._quiet) != waited_for and not self._feeds_read.is_set():
                waited_for = len(self._quiet)
                left = held_until - loop.time()
                if left <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(QUIET_LINGER, left)):
                        await self._feeds_read.wait()
            batch, self._quiet = self._quiet, []
            try:
                await self._writing(self._record_quiet, [fetched for fetched, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for _, done in batch:
                    done.set_result(None)

    def _record_quiet(self, batch: list[_Fetched]) -> None:
        """Polls that found nothing new, and the health they leave, in one transaction
        (a worker's lease is checked first there too, as for any poll it records)."""
        now, notify, tally = utcnow(), self.config.notify, Tally()
        with self.store.transaction() as conn:
            if self.settle is not None:
                self.settle(conn)
            self.store.record_successes(
                conn,
                [
                    SourcePoll(
                        f.source.name,
                        f.source.url,
                        f.etag,
                        f.last_modified,
                        f.body_hash,
                        f.feed_url,
                    )
                    for f in batch
                ],
                at=now,
            )
            for fetched in batch:
                _count(tally, fetched.report, facts_read=0)
            tally.write(conn)
            states = self.store.source_states_in(conn, {f.source.name: f.source.url for f in batch})
            events = health_events(
                list(states.values()),
                failures=notify.health_failures,
                silence=notify.health_silence,
                now=now,
            )
            reports = {f.source.name: f.report for f in batch}
            for event in events:
                self._raise_health(conn, event, now)
                reports[event.source].health = event

    def _raise_health(self, conn: Any, event: HealthEvent, now: datetime) -> None:
        health = "ok" if event.kind == "recovered" else event.kind
        self.store.set_health(conn, event.source, health, since=now)
        enqueue_health(conn, event, self.channels, at=now)

    @staticmethod
    def _internal_error(fetched: _Fetched, exc: Exception) -> None:
        """One source's bug: it fails alone (the traceback in the log under -v)."""
        log.error(
            "source %s: unexpected error: %s",
            fetched.source.name,
            _one_line(exc),
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        fetched.report.status = "failed"
        fetched.report.error = f"internal error: {_one_line(exc)}"
        fetched.report.failure_reason = FailureReason.INTERNAL

    async def _fetch_feed(self, fetcher: Fetcher, fetched: _Fetched, state: SourceState) -> None:
        """Poll the source (feed, site, page or sitemap) and keep the items not seen yet."""
        source, report = fetched.source, fetched.report
        fetched.etag, fetched.last_modified = state.etag, state.last_modified
        fetched.body_hash, fetched.feed_url = state.body_hash, state.feed_url
        remembered = Remembered(state.etag, state.last_modified, state.body_hash, state.feed_url)
        try:
            polled = await poll_source(fetcher, source, remembered)
        except PollError as exc:
            report.status, report.error = "failed", str(exc)
            report.failure_reason = exc.reason
            return
        report.kind, report.polled_url, report.notes = polled.kind, polled.url, polled.notes
        fetched.etag, fetched.last_modified = polled.etag, polled.last_modified
        fetched.feed_url = polled.feed_url
        if polled.outcome == PollOutcome.NOT_MODIFIED:
            report.status = "not_modified"
            return
        if polled.outcome == PollOutcome.UNCHANGED or polled.feed is None:
            report.status = "unchanged"
            return
        feed = polled.feed
        fetched.body_hash = polled.body_hash
        report.feed_problem = feed.problem
        report.items_in_feed = len(feed.items)
        known = await self._reading(
            self.store.known_item_ids, source.name, [i.item_id for i in feed.items]
        )
        fetched.new_items = [i for i in feed.items if i.item_id not in known]
        report.new_items = len(fetched.new_items)
        if source.fetch == FetchPolicy.RELEVANT and fetched.new_items:
            relevance = self._relevance()
            fetched.unrelated = {
                i.item_id
                for i in fetched.new_items
                if i.link and not relevance.worth_fetching(i.title, i.summary)
            }
            report.unrelated = len(fetched.unrelated)

    def _to_fetch(self, fetched: _Fetched) -> list[PendingItem]:
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

    def _due_revisits(self, fetched: _Fetched, room: int) -> list[DueRevisit]:
        """The source's articles due to be fetched again, in what room this pass has left."""
        if self.config.articles.revisit <= 0:
            return []
        return self.store.due_revisits(fetched.source.name, utcnow(), room)

    async def _fetch_articles(self, fetcher: Fetcher, fetched: _Fetched) -> None:
        """Fetch and read the source's articles, then revisit the ones due, until its
        deadline; the rest wait."""
        if not fetched.new_items and fetched.source.name not in self._with_pending:
            return
        pending = await self._reading(self._to_fetch, fetched)
        room = self.config.articles.max_per_source - len(pending)
        revisits = await self._reading(self._due_revisits, fetched, room)
        self._articles_total += len(pending) + len(revisits)
        if not pending and not revisits:
            return
        # Workers start while the first pages download (and are read in a thread).
        self._readers().warm_up_soon(self._articles_total)
        started: set[str] = set()
        tasks = [
            asyncio.create_task(self._fetch_article(fetcher, fetched, item, started))
            for item in pending
        ]
        revisit_tasks = [
            asyncio.create_task(self._revisit(fetcher, fetched, revisit)) for revisit in revisits
        ]
        left = max(0.0, fetched.deadline - asyncio.get_running_loop().time())
        _, late = await asyncio.wait(tasks + revisit_tasks, timeout=left)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for item, task in zip(pending, tasks, strict=True):
            if task not in late:
                outcome = task.result()
                if isinstance(outcome, _Problem):
                    fetched.failed.append((item, outcome))
                else:
                    fetched.done.append((item, outcome))
            elif item.item_id in started:
                cut = f"{item.link}: cut off: {self._out_of_time(fetched)}"
                fetched.failed.append((item, _Problem(cut, FailureReason.OUT_OF_TIME)))
            else:
                fetched.report.deferred += 1
        # A revisit cut off is simply due again next pass.
        fetched.revisited = [
            (revisit, task.result())
            for revisit, task in zip(revisits, revisit_tasks, strict=True)
            if task not in late
        ]

    def _host_turn(self, link: str) -> asyncio.Semaphore:
        """A host's turns at the articles in flight, as many as it may have requests."""
        host = urlsplit(link).hostname or ""
        turn = self._host_turns.get(host)
        if turn is None:
            turn = self._host_turns[host] = asyncio.Semaphore(self.config.http.per_host_concurrency)
        return turn

    async def _fetch_article(
        self, fetcher: Fetcher, fetched: _Fetched, item: PendingItem, started: set[str]
    ) -> _Read | _Problem:
        assert self._in_flight is not None
        try:
            # Pages fetched faster than they are read would pile up in memory. A host
            # takes its turn before a place in flight: articles queued for one slow
            # host must not hold every place while the others' articles wait.
            async with self._host_turn(item.link), self._in_flight:
                started.add(item.item_id)
                result = await fetcher.get(item.link)
                article, observations = await self._readers().read(
                    result.content,
                    result.url,
                    item.title,
                    item.published,
                    fetched.source.name,
                    articles_in_pass=self._articles_total,
                )
                return _Read(article, observations, result.etag, result.last_modified)
        except FetchError as exc:
            return _Problem(str(exc), exc.kind)
        except ExtractError as exc:
            return _Problem(f"{item.link}: {exc}", FailureReason.EXTRACT)
        except Exception as exc:  # a bug met on one article must not cost the source the others
            log.error(
                "%s: unexpected error reading an article of %s: %s",
                item.link,
                fetched.source.name,
                _one_line(exc),
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            return _Problem(
                f"{item.link}: internal error: {_one_line(exc)}", FailureReason.INTERNAL
            )
        finally:
            self._articles_done += 1
            if self.progress:
                self.progress(self._articles_done, self._articles_total)

    async def _revisit(
        self, fetcher: Fetcher, fetched: _Fetched, revisit: DueRevisit
    ) -> _Read | _Unchanged | _Problem:
        """Fetch an article again, conditionally, and read it when the page changed."""
        assert self._in_flight is not None
        try:
            async with self._host_turn(revisit.url), self._in_flight:
                result = await fetcher.get(
                    revisit.url, etag=revisit.etag, last_modified=revisit.last_modified
                )
                if result.not_modified:
                    return _Unchanged(result.etag, result.last_modified)
                article, observations = await self._readers().read(
                    result.content,
                    result.url,
                    revisit.title,
                    revisit.published,
                    fetched.source.name,
                    articles_in_pass=self._articles_total,
                )
                return _Read(article, observations, result.etag, result.last_modified)
        except FetchError as exc:
            return _Problem(str(exc), exc.kind)
        except ExtractError as exc:
            return _Problem(f"{revisit.url}: {exc}", FailureReason.EXTRACT)
        except Exception as exc:  # a bug met on one page must not cost the source the others
            log.error(
                "%s: unexpected error revisiting an article of %s: %s",
                revisit.url,
                fetched.source.name,
                _one_line(exc),
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            reason = f"{revisit.url}: internal error: {_one_line(exc)}"
            return _Problem(reason, FailureReason.INTERNAL)
        finally:
            self._articles_done += 1
            if self.progress:
                self.progress(self._articles_done, self._articles_total)

    def _write_revisits(
        self, conn: Any, fetched: _Fetched, *, at: datetime
    ) -> dict[str, list[Observation]]:
        """Record each revisit and schedule the next; a changed text is stored as the
        article's next revision, and its readings for each story, marked with it, are
        returned to be compared like any other."""
        observations: dict[str, list[Observation]] = {}
        for revisit, outcome in fetched.revisited:
            next_at = next_revisit(revisit.first_fetched, self.config.articles, after=at)
            if isinstance(outcome, _Problem):
                log.info("revisit of %s failed: %s", revisit.url, outcome.reason)
                self.store.record_revisit(
                    conn,
                    revisit,
                    at=at,
                    next_at=next_at,
                    etag=revisit.etag,
                    last_modified=revisit.last_modified,
                )
                continue
            fetched.report.revisited += 1
            revised = None
            if isinstance(outcome, _Read) and text_hash(outcome.article.text) != revisit.text_hash:
                revised = outcome.article
                revision = revisit.revision + 1
                for story, facts in outcome.observations.items():
                    found = [
                        replace(o, evidence=replace(o.evidence, revision=revision)) for o in facts
                    ]
                    rows = [o.to_json() for o in found]
                    self.store.add_observations(conn, revisit.article_id, story, rows, at=at)
                    observations.setdefault(story, []).extend(found)
                fetched.report.revised.append(revised)
            self.store.record_revisit(
                conn,
                revisit,
                at=at,
                next_at=next_at,
                etag=outcome.etag,
                last_modified=outcome.last_modified,
                revised=revised,
            )
        return observations

    def _write(self, fetched: _Fetched) -> None:
        """Everything one source gave, in one transaction."""
        if fetched.report.status == "failed":
            self._write_failure(fetched)
            return
        source, report, now = fetched.source, fetched.report, utcnow()
        max_attempts = self.config.articles.max_attempts
        tally = Tally()
        with self.store.transaction() as conn:
            if self.settle is not None:
                self.settle(conn)
            self._drop_taken(conn, fetched)
            self.store.add_items(conn, fetched.new_items, at=now, unrelated=fetched.unrelated)
            observations: dict[str, list[Observation]] = {}
            revisit_at = next_revisit(now, self.config.articles, after=now)
            for item, read in fetched.done:
                article_id = self.store.save_article(
                    conn,
                    item,
                    read.article,
                    at=now,
                    etag=read.etag,
                    last_modified=read.last_modified,
                    revisit_at=revisit_at,
                )
                for story_name, facts in read.observations.items():
                    rows = [o.to_json() for o in facts]
                    self.store.add_observations(conn, article_id, story_name, rows, at=now)
                    observations.setdefault(story_name, []).extend(facts)
                report.articles.append(
                    read.article if self.keep_text else replace(read.article, text="")
                )
            for story_name, facts in self._write_revisits(conn, fetched, at=now).items():
                observations.setdefault(story_name, []).extend(facts)
            for story in self.stories:
                if observations.get(story.name):
                    report.changes += self._compare(conn, story, observations[story.name], at=now)
            for item, problem in fetched.failed:
                self.store.record_item_failure(
                    conn, item, problem.reason, max_attempts=max_attempts
                )
                report.failures.append(
                    ArticleFailure(
                        item.link, problem.reason, item.attempts + 1 >= max_attempts, problem.kind
                    )
                )
            self.store.record_source(
                conn,
                source.name,
                source.url,
                at=now,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                body_hash=fetched.body_hash,
                new_items=bool(fetched.new_items),
                feed_url=fetched.feed_url,
            )
            if report.status == "nothing_new" and (report.articles or report.revised):
                report.status = "new"
            _count(tally, report, facts_read=sum(len(o) for o in observations.values()))
            tally.write(conn)

    def _drop_taken(self, conn: Any, fetched: _Fetched) -> None:
        """Forget new items another process stored while this one fetched them.

        Two passes at once (the daemon and a manual check) may fetch the same
        new items; whichever writes second finds them taken, under the write
        lock, and leaves them to the first, so nothing is stored or alerted twice.
        """
        new_ids = {i.item_id for i in fetched.new_items}
        taken = self.store.known_item_ids(fetched.source.name, new_ids, conn=conn)
        if not taken:
            return
        fetched.new_items = [i for i in fetched.new_items if i.item_id not in taken]
        fetched.done = [d for d in fetched.done if d[0].attempts or d[0].item_id not in taken]
        fetched.failed = [f for f in fetched.failed if f[0].attempts or f[0].item_id not in taken]

    def _compare(
        self, conn: Any, story: Story, observations: list[Observation], *, at: datetime
    ) -> list[ReportedChange]:
        """Fold a story's observations into its knowledge, read in this same transaction;
        queue the alerts on the channels that hear the story."""
        recorded_changes = knowledge.fold(conn, story, observations, policy=self.policy, at=at)
        channels = {n: r for n, r in self.channels.items() if story.hears(n)}
        reported = []
        for recorded in recorded_changes:
            change = knowledge.present(
                recorded.change, recorded.change_id, recorded.first_seen, story.topic, story.name
            )
            queued = enqueue_change(
                conn,
                change,
                recorded.event,
                channels,
                at=at,
                subject_key=story.subject_key(change.key),
            )
            reported.append(ReportedChange(change, ChangeEvent(recorded.event), tuple(queued)))
        return reported

    def _check_health(self, source: Source) -> HealthEvent | None:
        """Raise a source's health alert once when it turns bad, and once when it recovers.

        Most polls change nothing: they are judged on a plain read, and only a
        change takes the write lock (and is judged again under it).
        """
        notify, now = self.config.notify, utcnow()

        def events(conn: Any = None) -> list[HealthEvent]:
            state = self.store.source_state(source.name, source.url, conn=conn)
            return health_events(
                [state], failures=notify.health_failures, silence=notify.health_silence, now=now
            )

        if not events():
            return None
        with self.store.transaction() as conn:
            found = events(conn)
            for event in found:
                self._raise_health(conn, event, now)
        return found[0] if found else None

    def _write_atom(self) -> None:
        path = self.config.atom_path()
        if path is None:
            return
        changes = [c for s in self.stories for c in knowledge.stored_changes(self.store, s)]
        first = self.stories[0]
        several = len(self.stories) > 1
        feed = build_feed(
            changes,
            title="watcher: " + ", ".join(s.title for s in self.stories),
            feed_id="urn:watcher:" + ("stories" if several else first.topic.name),
            updated=utcnow(),
            self_url=self.config.notify.atom_url or path.resolve().as_uri(),
            with_story=several,
        )
        try:
            write_feed(path, feed)
        except OSError as exc:
            log.error("%s: cannot write the Atom feed: %s", path, exc.strerror or exc)

    def _write_failure(self, fetched: _Fetched) -> None:
        tally = Tally()
        _count(tally, fetched.report, facts_read=0)
        with self.store.transaction() as conn:
            if self.settle is not None:
                self.settle(conn)
            self.store.record_source(
                conn,
                fetched.source.name,
                fetched.source.url,
                at=utcnow(),
                error=fetched.report.error,
            )
            tally.write(conn)


def _quiet(fetched: _Fetched) -> bool:
    """Whether a poll found nothing to store: its feed unchanged, or no item new to it."""
    report = fetched.report
    return (
        report.status in ("not_modified", "unchanged", "nothing_new")
        and not fetched.new_items
        and not fetched.done
        and not fetched.failed
        and not fetched.revisited
        and not report.deferred
    )


def _count(tally: Tally, report: SourceReport, *, facts_read: int) -> None:
    """What one source's poll adds to the metrics."""
    source = report.name
    tally.add(Counter.POLLS, source=source, outcome=report.status)
    if report.status == "failed":
        reason = report.failure_reason or FailureReason.INTERNAL
        tally.add(Counter.POLL_FAILURES, source=source, reason=reason)
    tally.add(Counter.ARTICLES, len(report.articles), source=source)
    for failure in report.failures:
        tally.add(Counter.ARTICLE_FAILURES, source=source, reason=failure.kind)
    tally.add(Counter.FACTS_READ, facts_read, source=source)
    for reported in report.changes:
        tally.add(Counter.CHANGES, key=reported.change.key, event=reported.event)


def _one_line(exc: BaseException) -> str:
    """``TypeName: message`` on one line, for errors nobody planned for."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def worker_count(config: Config) -> int:
    """Processes to read articles in: ``articles.workers``, else one per core we may use."""
    if config.articles.workers:
        return config.articles.workers
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def readers_for(config: Config, stories: list[Story]) -> Readers:
    from watcher.service.workers import Readers

    workers = worker_count(config)
    return Readers([(s.name, s.topic, s.topic_path) for s in stories], workers)


def run_check(
    config: Config,
    store: Store,
    *,
    sources: list[Source] | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    return asyncio.run(Checker(config, store, progress=progress).run(sources))
