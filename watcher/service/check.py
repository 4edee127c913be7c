"""One pass over every enabled source: from feed to article, facts, changes and alerts.

The pass runs down the pipeline in these modules:

- :mod:`watcher.service.polling`: each source's feed read and its new items picked;
- :mod:`watcher.service.articles`: each article fetched, extracted and read;
- :mod:`watcher.service.recording`: each source's results written, compared with
  what is known, and its alerts queued, in one transaction;
- :mod:`watcher.service.report`: what the pass found, as ``watcher check`` prints it.

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
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from watcher.config import Config, Source
from watcher.counters import FailureReason
from watcher.facts import knowledge
from watcher.facts.relevance import Relevance
from watcher.facts.stories import Story, load_stories
from watcher.ingest.fetch import Fetcher
from watcher.service.articles import InFlight, Progress, readers_for, worker_count
from watcher.service.leases import shared_turns
from watcher.service.polling import Fetched, Polling
from watcher.service.recording import Recorder, Settle
from watcher.service.report import CheckReport, PollStatus, SourceReport
from watcher.store import SourceState, Store, StoreError, utcnow

if TYPE_CHECKING:
    from watcher.service.workers import Readers

# Called with each source's report once it is written (to send its alerts at once).
OnWritten = Callable[[SourceReport], Awaitable[None]]
T = TypeVar("T")

# How long sources that gave nothing new wait for others to be recorded with them:
# while others keep joining (within QUIET_LINGER of each other), up to QUIET_HOLD.
QUIET_LINGER = 0.5
QUIET_HOLD = 2.0


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
        # Sources that gave nothing new, waiting to be recorded together; and how many
        # feeds are still being fetched (when none is, the batch is written).
        self._quiet: list[tuple[Fetched, asyncio.Future[None]]] = []
        self._quiet_writer: asyncio.Task[None] | None = None
        self._feeds_to_read = 0
        self._feeds_read = asyncio.Event()

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
        articles = InFlight(self.config, self._readers, workers=workers, progress=self.progress)
        pass_deadline = asyncio.get_running_loop().time() + self.config.check.pass_budget
        self._recorder = Recorder(
            self.config,
            self.store,
            self.stories,
            policy=self.policy,
            channels=self.channels,
            keep_text=self.keep_text,
            settle=self.settle,
        )
        try:
            async with contextlib.AsyncExitStack() as stack:
                if fetcher is None:
                    own = Fetcher(self.config.http, turns=shared_turns(self.store))
                    fetcher = await stack.enter_async_context(own)
                states = await self._reading(
                    self.store.source_states, {s.name: s.url for s in sources}
                )
                # Sources with articles to fetch again (earlier failures, or revisits
                # due), read once per pass.
                with_pending = await self._reading(
                    self.store.sources_with_pending,
                    [s.name for s in sources],
                    self.config.articles.max_attempts,
                    utcnow() if self.config.articles.revisit > 0 else None,
                )
                self._polling = Polling(
                    self.config,
                    self.store,
                    articles,
                    relevance=self._relevance,
                    with_pending=with_pending,
                    pass_deadline=pass_deadline,
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
        await self._writing(self._recorder.tally_pass, time.monotonic() - clock)
        if report.changes:
            await self._writing(self._recorder.write_atom)
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

    async def _reading(self, work: Callable[..., T], *args: Any) -> T:
        """A database read, off the event loop."""
        return await asyncio.to_thread(work, *args)

    async def _writing(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Database writes, off the event loop and one at a time in this process: a
        writer waiting for SQLite's lock (another process writing) must not hold up
        every fetch in flight, nor every worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.store.writer(), partial(work, *args, **kwargs))

    async def _poll(self, fetcher: Fetcher, source: Source, state: SourceState) -> SourceReport:
        """Poll one source; whatever goes wrong stays with this source."""
        fetched = self._polling.start(source)
        try:
            try:
                async with asyncio.timeout_at(fetched.deadline):
                    await self._polling.fetch_feed(fetcher, fetched, state)
            except TimeoutError:
                fetched.report.status = PollStatus.FAILED
                fetched.report.error = f"{source.url}: no feed read: {fetched.out_of_time()}"
                fetched.report.failure_reason = FailureReason.OUT_OF_TIME
            finally:
                self._feed_read()
            if fetched.report.status != PollStatus.FAILED:
                await self._polling.fetch_articles(fetcher, fetched)
        except StoreError:
            raise  # the database, not this source: nothing more can be recorded
        except Exception as exc:  # one source's bug must not end the pass
            fetched.internal_error(exc)
        if fetched.quiet:
            await self._record_quietly(fetched)
        else:
            await self._writing(self._recorder.record, fetched)
        if self.on_written is not None:
            await self.on_written(fetched.report)
        return fetched.report

    async def _record_quietly(self, fetched: Fetched) -> None:
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
                await self._writing(self._recorder.record_quiet, [fetched for fetched, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for _, done in batch:
                    done.set_result(None)


def run_check(
    config: Config,
    store: Store,
    *,
    sources: list[Source] | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    return asyncio.run(Checker(config, store, progress=progress).run(sources))
