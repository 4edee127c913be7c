"""Extraction and fact reading on every core.

An article is extracted once and read for every story the config follows
(each story's topic says whether the article is about it). trafilatura and
the fact reader are pure Python and hold the GIL, so threads give one core's
worth of work. A pass with many articles hands them to a pool of worker
processes, each with the topics compiled once. Workers are started
by a fork server (never forked from a process running scheduler threads) with
the heavy modules already imported, and only when a pass has enough articles
to be worth it. While they start, articles are read in a thread of the owner,
so no core waits.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from watcher.facts.reading import extract_facts
from watcher.facts.topic import Topic, load_topic
from watcher.ingest.extract import ExtractError, extract_html, load_extractor
from watcher.models import Article, Observation
from watcher.service.prestart import WORKERS_MODULE

# The fork server imports this module before it forks the workers: the extractor
# is loaded there once, and every worker starts with it.
load_extractor()

# A story's name and topic, and where the topic was read from (for worker processes).
StoryTopic = tuple[str, Topic, Path]
# An article, and the observations of each story it is about (story name to its facts).
Reading = tuple[Article, dict[str, list[Observation]]]

# Below this many articles in a pass, starting workers costs more than it saves.
POOL_THRESHOLD = 24
# A worker ends after this many articles and the fork server forks a fresh one:
# what extracting leaves behind (lxml's and the allocator's free memory, caches)
# is given back instead of growing for the whole pass. A fresh worker costs a
# fork and the topics' loading, a few milliseconds, against ~20 ms an article.
ARTICLES_PER_WORKER = 50

_worker_topics: dict[str, Topic] | None = None
# trafilatura and lxml crash (segfault, heap corruption) when several threads of
# one process extract at once, so the thread path reads one article at a time.
_THREAD_LOCK = threading.Lock()


def _start_worker(topic_paths: tuple[tuple[str, str], ...], owner: int) -> None:
    global _worker_topics
    _exit_with(owner)
    _worker_topics = {name: load_topic(path) for name, path in topic_paths}


def _exit_with(owner: int) -> None:
    """End this worker when ``owner``, the process whose pool it serves, ends, however.

    A worker's parent is the fork server, so PR_SET_PDEATHSIG would not see
    the owner go; and an owner killed with SIGKILL leaves the pool's queues
    open, so its workers would wait on them for ever, keeping the fork server
    and the resource tracker alive with them (about 200 MB per killed
    check). A thread waits on a pidfd of the owner (Linux 5.3 and later), or
    else looks every second whether it is still there.
    """
    try:
        handle: int | None = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while _running(owner):
                time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-owner", daemon=True).start()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, under another user
        pass
    return True


def read_article(
    topics: dict[str, Topic],
    content: bytes,
    url: str,
    title: str | None,
    published: datetime | None,
    source: str,
) -> Reading:
    """An article's text and metadata (extracted once), and the facts it states for each
    story it is about; a story it is not about gets nothing."""
    article = extract_html(
        content, url, fallback_title=title, fallback_published=published, source=source
    )
    found = {name: extract_facts(article, topic) for name, topic in topics.items()}
    return article, {name: facts for name, facts in found.items() if facts}


class _WorkerPool(ProcessPoolExecutor):
    """A process pool whose workers are replaced after ``max_tasks_per_child`` reads."""

    def __init__(self, max_workers: int, **options: Any) -> None:
        super().__init__(max_workers, **options)
        self._wanted = max_workers

    def _adjust_process_count(self) -> None:
        # Python 3.11 to 3.13 (gh-115634): when a worker leaves at its
        # max_tasks_per_child, the idle-worker semaphore may hold a token of a
        # worker that is gone; the stock method then starts no replacement and
        # the queued reads wait for ever. Every worker is wanted while a pass
        # runs, so start as many as are missing whenever asked.
        while len(self._processes) < self._wanted:
            self._spawn_process()  # type: ignore[attr-defined]


def _ready() -> int:
    """A task that only shows a worker has started (its initializer has run)."""
    return os.getpid()


def _read_in_thread(topics: dict[str, Topic], *args: Any) -> Reading:
    with _THREAD_LOCK:
        return read_article(topics, *args)


def _read_in_worker(
    content: bytes, url: str, title: str | None, published: datetime | None, source: str
) -> Reading:
    assert _worker_topics is not None, "worker started without its topics"
    return read_article(_worker_topics, content, url, title, published, source)


class Readers:
    """Reads articles in threads for small passes and in worker processes for large ones.

    One instance lives as long as its owner (a ``watcher check`` run, or the
    daemon), so the workers are started at most once.
    """

    def __init__(self, stories: Sequence[StoryTopic], workers: int) -> None:
        self.topics = {name: topic for name, topic, _ in stories}
        self.topic_paths = tuple((name, str(path)) for name, _, path in stories)
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._retired = False
        # Set once every worker has started; until then articles are read in a thread.
        self._ready = threading.Event()
        self._warming: threading.Thread | None = None
        # Articles read in this process go to one thread: memory freed by an
        # extraction is reused by the next instead of being kept in the
        # allocator's arena of each of asyncio's threads in turn.
        self._thread: ThreadPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor | None:
        """The worker pool, started on first use; None once retired."""
        with self._lock:
            if self._retired:
                return None
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload([WORKERS_MODULE])
                self._pool = _WorkerPool(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(self.topic_paths, os.getpid()),
                    max_tasks_per_child=ARTICLES_PER_WORKER,
                )
            return self._pool

    def warm_up(self) -> None:
        """Start the workers and wait until each has started (blocks: the fork server
        imports the extractor first)."""
        pool = self._executor()
        if pool is None:
            return
        try:
            for started in [pool.submit(_ready) for _ in range(self.workers)]:
                started.result()
        except (BrokenProcessPool, RuntimeError, CancelledError):  # broken, or closed meanwhile
            return
        self._ready.set()

    def warm_up_soon(self, articles_in_pass: int) -> None:
        """Start the workers in the background if a pass this large will use them."""
        if not self._uses_pool(articles_in_pass) or self._ready.is_set():
            return
        with self._lock:
            if self._warming is not None and self._warming.is_alive():
                return
            self._warming = threading.Thread(
                target=self.warm_up, name="watcher-workers-start", daemon=True
            )
            self._warming.start()

    def _uses_pool(self, articles_in_pass: int) -> bool:
        return self.workers > 1 and articles_in_pass >= POOL_THRESHOLD and not self._retired

    async def _in_thread(self, *args: Any) -> Reading:
        if self._retired:
            # The last reads of a pass under a replaced config: no thread of its
            # own that nothing would close.
            return await asyncio.to_thread(_read_in_thread, self.topics, *args)
        with self._lock:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="watcher-read")
            thread = self._thread
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(thread, partial(_read_in_thread, self.topics, *args))

    async def read(
        self,
        content: bytes,
        url: str,
        title: str | None,
        published: datetime | None,
        source: str,
        *,
        articles_in_pass: int,
    ) -> Reading:
        args = (content, url, title, published, source)
        pool = None
        if self._uses_pool(articles_in_pass):
            if self._ready.is_set():
                pool = self._executor()
            else:
                self.warm_up_soon(articles_in_pass)
        if pool is None:
            return await self._in_thread(*args)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, _read_in_worker, *args)
        except BrokenProcessPool:
            # A worker died (out of memory, a crash in a C extension): start afresh
            # next time; this article is retried on a later pass.
            self._discard_pool()
            raise ExtractError("the extraction worker stopped unexpectedly") from None
        except RuntimeError:
            if not self._retired:
                raise
            # Retired between taking the pool and handing it this article.
            return await self._in_thread(*args)

    def _discard_pool(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            self._ready.clear()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def retire(self) -> None:
        """Stop using worker processes without failing reads under way.

        Reads already in a worker finish there; later ones (of a pass that was
        running when the config was reloaded) are read in a thread.
        """
        with self._lock:
            self._retired = True
            pool, self._pool = self._pool, None
            thread, self._thread = self._thread, None
            self._ready.clear()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=False)
        if thread is not None:  # its reads under way finish, then it ends
            thread.shutdown(wait=False, cancel_futures=False)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            thread, self._thread = self._thread, None
            self._ready.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if thread is not None:
            thread.shutdown(wait=True, cancel_futures=True)
