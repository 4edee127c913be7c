"""Section 1: how fast trafilatura reads the corpus, on one core and on all of them.

This is the ceiling for a cold pass: a pass cannot turn pages into articles
faster than the extractor alone does on the same machine.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import trafilatura

from benchmarks.pages import Page, load_pages
from watcher.ingest.extract import ExtractError, extract_html
from watcher.models import Article

T = TypeVar("T")

# The corpus inside each worker process, loaded once by _load.
_PAGES: list[Page] = []


def _load(folder: str) -> None:
    _PAGES[:] = load_pages(Path(folder))


def _ready(_: int) -> bool:
    time.sleep(0.05)  # long enough that every worker gets one
    return bool(_PAGES)


def trafilatura_one(index: int) -> bool:
    """``trafilatura.extract`` with its defaults; True when it found text."""
    page = _PAGES[index]
    return trafilatura.extract(page.html, url=page.url) is not None


def watcher_one(index: int) -> Article | None:
    """What watcher's own extraction makes of a page (None when it finds no article)."""
    page = _PAGES[index]
    try:
        return extract_html(page.html, page.url)
    except ExtractError:
        return None


@contextmanager
def worker_pool(folder: Path, workers: int) -> Iterator[ProcessPoolExecutor]:
    """Started and warmed-up worker processes, each holding the corpus."""
    context = multiprocessing.get_context("spawn")  # the parent has server threads
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_load, initargs=(str(folder),)
    ) as pool:
        list(pool.map(_ready, range(workers * 2)))
        yield pool


def timed_map(
    pool: ProcessPoolExecutor, func: Callable[[int], T], indices: list[int]
) -> tuple[float, list[T]]:
    started = time.perf_counter()
    results = list(pool.map(func, indices, chunksize=1))
    return time.perf_counter() - started, results


def timed_loop(func: Callable[[int], T], indices: list[int]) -> tuple[float, list[T]]:
    func(indices[0])  # the first call sets up trafilatura's caches
    started = time.perf_counter()
    results = [func(i) for i in indices]
    return time.perf_counter() - started, results


def measure_raw(
    pages: list[Page], folder: Path, indices: list[int], workers: int
) -> dict[str, Any]:
    """Pages per second: trafilatura on one core and on ``workers``; watcher's on one core."""
    _PAGES[:] = pages
    one_s, found = timed_loop(trafilatura_one, indices)
    watcher_s, articles = timed_loop(watcher_one, indices)
    with worker_pool(folder, workers) as pool:
        all_s, _ = timed_map(pool, trafilatura_one, indices)
    count = len(indices)
    return {
        "pages": count,
        "distinct_pages": len(set(indices)),
        "with_text": sum(found),
        "one_core_pages_per_s": count / one_s,
        "all_cores_pages_per_s": count / all_s,
        "workers": workers,
        "scaling": one_s / all_s,
        "watcher_extract_one_core_pages_per_s": count / watcher_s,
        "watcher_extract_articles": sum(a is not None for a in articles),
    }
