"""A pass's articles: each fetched, extracted and read for every story, a few at once.

An article's page is fetched (a revisit conditionally, with the validators kept
from last time), then extracted and read by the readers (in worker processes,
see :mod:`watcher.service.workers`). What comes back is a :class:`Read`, an
:class:`Unchanged` revisit, or a :class:`Problem`; nothing here touches the
database.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from watcher.config import Config
from watcher.counters import FailureReason
from watcher.facts.stories import Story
from watcher.ingest.extract import ExtractError
from watcher.ingest.fetch import Fetcher, FetchError
from watcher.models import Article, Observation
from watcher.store import DueRevisit, PendingItem

if TYPE_CHECKING:
    # Imported when a pass has articles to read: one where every feed answers 304
    # never loads the extractor, nor starts a worker.
    from watcher.service.workers import Readers

# The pass's log, whichever of its modules writes to it.
log = logging.getLogger("watcher.service.check")

Progress = Callable[[int, int], None]

# Articles fetched or being read at once: enough to keep the network and every
# reader busy, few enough that memory does not grow with the size of a pass.
MIN_IN_FLIGHT = 16


@dataclass(frozen=True)
class Problem:
    """Why an article failed: a line for people, and its kind for the metrics."""

    reason: str
    kind: str


@dataclass(frozen=True)
class Read:
    """An article fetched and read, with the page's validators for revisiting it."""

    article: Article
    observations: dict[str, list[Observation]]  # by story, as the readers give them
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Unchanged:
    """A revisit the server answered 304 Not Modified."""

    etag: str | None
    last_modified: str | None


class InFlight:
    """The articles a pass fetches and reads at once, and its count of them.

    ``readers`` gives the pass's readers, made when it first has an article to read.
    """

    def __init__(
        self,
        config: Config,
        readers: Callable[[], Readers],
        *,
        workers: int,
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.readers = readers
        self.progress = progress
        # Articles of the pass so far (each source adds its own), and those finished.
        self.total = 0
        self.done = 0
        self._slots = asyncio.Semaphore(max(MIN_IN_FLIGHT, 4 * workers))
        self._host_turns: dict[str, asyncio.Semaphore] = {}

    def _host_turn(self, link: str) -> asyncio.Semaphore:
        """A host's turns at the articles in flight, as many as it may have requests."""
        host = urlsplit(link).hostname or ""
        turn = self._host_turns.get(host)
        if turn is None:
            turn = self._host_turns[host] = asyncio.Semaphore(self.config.http.per_host_concurrency)
        return turn

    async def fetch(
        self, fetcher: Fetcher, source: str, item: PendingItem, started: set[str]
    ) -> Read | Problem:
        """Fetch and read a new item's article (``started`` takes its id once begun)."""
        try:
            # Pages fetched faster than they are read would pile up in memory. A host
            # takes its turn before a place in flight: articles queued for one slow
            # host must not hold every place while the others' articles wait.
            async with self._host_turn(item.link), self._slots:
                started.add(item.item_id)
                result = await fetcher.get(item.link)
                article, observations = await self.readers().read(
                    result.content,
                    result.url,
                    item.title,
                    item.published,
                    source,
                    articles_in_pass=self.total,
                )
                return Read(article, observations, result.etag, result.last_modified)
        except Exception as exc:
            return _problem(exc, item.link, f"reading an article of {source}")
        finally:
            self._finished()

    async def revisit(
        self, fetcher: Fetcher, source: str, revisit: DueRevisit
    ) -> Read | Unchanged | Problem:
        """Fetch an article again, conditionally, and read it when the page changed."""
        try:
            async with self._host_turn(revisit.url), self._slots:
                result = await fetcher.get(
                    revisit.url, etag=revisit.etag, last_modified=revisit.last_modified
                )
                if result.not_modified:
                    return Unchanged(result.etag, result.last_modified)
                article, observations = await self.readers().read(
                    result.content,
                    result.url,
                    revisit.title,
                    revisit.published,
                    source,
                    articles_in_pass=self.total,
                )
                return Read(article, observations, result.etag, result.last_modified)
        except Exception as exc:
            return _problem(exc, revisit.url, f"revisiting an article of {source}")
        finally:
            self._finished()

    def _finished(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)


def one_line(exc: BaseException) -> str:
    """``TypeName: message`` on one line, for errors nobody planned for."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _problem(exc: Exception, url: str, doing: str) -> Problem:
    """What went wrong with one article, as the source's report says it. A bug met on
    one article fails that article only, never the source's others."""
    if isinstance(exc, FetchError):
        return Problem(str(exc), exc.kind)
    if isinstance(exc, ExtractError):
        return Problem(f"{url}: {exc}", FailureReason.EXTRACT)
    log.error(
        "%s: unexpected error %s: %s",
        url,
        doing,
        one_line(exc),
        exc_info=log.isEnabledFor(logging.DEBUG),
    )
    return Problem(f"{url}: internal error: {one_line(exc)}", FailureReason.INTERNAL)


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
