"""Extraction and fact reading on every core.

trafilatura and the fact reader are pure Python and hold the GIL, so threads
give one core's worth of work. A pass with many articles hands them to a pool
of worker processes, each with the topic compiled once. Workers are started
by a fork server (never forked from a process running scheduler threads) with
the heavy modules already imported, and only when a pass has enough articles
to be worth it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Any

from watcher.facts.reading import extract_facts
from watcher.facts.topic import Topic, load_topic
from watcher.ingest.extract import ExtractError, extract_html
from watcher.models import Article, Observation

Reading = tuple[Article, list[Observation]]

# Below this many articles in a pass, starting workers costs more than it saves.
POOL_THRESHOLD = 24

_worker_topic: Topic | None = None
# trafilatura and lxml crash (segfault, heap corruption) when several threads of
# one process extract at once, so the thread path reads one article at a time.
_THREAD_LOCK = threading.Lock()


def _start_worker(topic_path: str, owner: int) -> None:
    global _worker_topic
    _exit_with(owner)
    _worker_topic = load_topic(topic_path)


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
    topic: Topic,
    content: bytes,
    url: str,
    title: str | None,
    published: datetime | None,
    source: str,
) -> Reading:
    """An article's text and metadata, and the topic's facts it states."""
    article = extract_html(
        content, url, fallback_title=title, fallback_published=published, source=source
    )
    return article, extract_facts(article, topic)


def _read_in_thread(topic: Topic, *args: Any) -> Reading:
    with _THREAD_LOCK:
        return read_article(topic, *args)


def _read_in_worker(
    content: bytes, url: str, title: str | None, published: datetime | None, source: str
) -> Reading:
    assert _worker_topic is not None, "worker started without its topic"
    return read_article(_worker_topic, content, url, title, published, source)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Readers:
    """Reads articles in threads for small passes and in worker processes for large ones.

    One instance lives as long as its owner (a ``watcher check`` run, or the
    daemon), so the workers are started at most once.
    """

    def __init__(self, topic: Topic, topic_path: Path, workers: int) -> None:
        self.topic = topic
        self.topic_path = topic_path
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._retired = False

    def _executor(self) -> ProcessPoolExecutor | None:
        """The worker pool, started on first use; None once retired."""
        with self._lock:
            if self._retired:
                return None
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["watcher.service.workers"])
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(str(self.topic_path), os.getpid()),
                )
            return self._pool

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
        if self.workers > 1 and articles_in_pass >= POOL_THRESHOLD:
            pool = self._executor()
        if pool is None:
            return await asyncio.to_thread(_read_in_thread, self.topic, *args)
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
            return await asyncio.to_thread(_read_in_thread, self.topic, *args)

    def _discard_pool(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
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
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=False)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
