"""Reading articles in worker processes gives what reading them in-process gives."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.checks import HANDOVER, page
from watcher.config import Config
from watcher.facts.topic import load_topic
from watcher.ingest.extract import ExtractError
from watcher.service.workers import POOL_THRESHOLD, Readers

TOPIC_PATH = Config().topic_path()


def read_all(readers: Readers, pages: list[bytes], articles_in_pass: int) -> list:
    async def go() -> list:
        return await asyncio.gather(
            *(
                readers.read(
                    body,
                    f"http://wire.test/{i}.html",
                    None,
                    None,
                    "wire",
                    articles_in_pass=articles_in_pass,
                )
                for i, body in enumerate(pages)
            ),
            return_exceptions=True,
        )

    return asyncio.run(go())


@pytest.mark.slow
def test_worker_processes_read_like_threads() -> None:
    topic = load_topic(TOPIC_PATH)
    pages = [page(HANDOVER).encode()] * 6 + [b"<html><body>too short</body></html>"]
    threads = Readers([("niger", topic, TOPIC_PATH)], workers=1)
    processes = Readers([("niger", topic, TOPIC_PATH)], workers=2)
    try:
        in_threads = read_all(threads, pages, POOL_THRESHOLD)
        processes.warm_up()
        in_workers = read_all(processes, pages, POOL_THRESHOLD)
        assert processes._pool is not None and threads._pool is None
    finally:
        threads.close()
        processes.close()
    assert [type(r) for r in in_workers] == [type(r) for r in in_threads]
    assert isinstance(in_workers[-1], ExtractError)
    for (article, facts), (expected_article, expected_facts) in zip(
        in_workers[:-1], in_threads[:-1], strict=True
    ):
        assert article == expected_article
        assert list(facts) == list(expected_facts) == ["niger"]
        assert [f.to_json() for f in facts["niger"]] == [
            f.to_json() for f in expected_facts["niger"]
        ]
        assert {f.key for f in facts["niger"]} == {
            "bases.air_base_201.status",
            "us_forces.withdrawal_status",
        }


def test_small_passes_start_no_workers() -> None:
    topic = load_topic(TOPIC_PATH)
    readers = Readers([("niger", topic, Path(TOPIC_PATH))], workers=4)
    try:
        [(article, _)] = read_all(readers, [page(HANDOVER).encode()], POOL_THRESHOLD - 1)
        assert article.title == HANDOVER[0]
        assert readers._pool is None
    finally:
        readers.close()


@pytest.mark.slow
def test_retired_readers_finish_a_pass_in_threads() -> None:
    topic = load_topic(TOPIC_PATH)
    readers = Readers([("niger", topic, TOPIC_PATH)], workers=2)
    try:
        readers.warm_up()
        [(before, _)] = read_all(readers, [page(HANDOVER).encode()], POOL_THRESHOLD)
        pool = readers._pool
        assert pool is not None
        readers.retire()  # a reload replaced them while a pass was reading
        [(after, facts)] = read_all(readers, [page(HANDOVER).encode()], POOL_THRESHOLD)
        assert after == before and "bases.air_base_201.status" in {f.key for f in facts["niger"]}
        assert readers._pool is None
        assert readers._thread is None  # nothing left that no one would close
    finally:
        readers.close()


@pytest.mark.slow
def test_articles_are_read_in_a_thread_until_the_workers_have_started() -> None:
    """A large pass does not wait for the fork server: its first articles are read in
    the owner while the workers start in the background."""
    readers = Readers([("niger", load_topic(TOPIC_PATH), TOPIC_PATH)], workers=2)
    try:
        [result] = read_all(readers, [page(HANDOVER).encode()], POOL_THRESHOLD)
        assert not isinstance(result, BaseException)
        assert readers._warming is not None  # started by that read
        readers._warming.join(60)
        assert readers._ready.is_set() and readers._pool is not None
    finally:
        readers.close()


@pytest.mark.slow
def test_workers_are_replaced_after_their_share_of_articles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker leaves after ARTICLES_PER_WORKER reads and a fresh one takes over; a
    queue of reads longer than that never waits for a worker that is gone (the
    stock pool's gh-115634 on Python 3.11 to 3.13)."""
    from watcher.service import workers

    monkeypatch.setattr(workers, "ARTICLES_PER_WORKER", 3)
    topic = load_topic(TOPIC_PATH)
    pages = [page(HANDOVER).encode()] * 12
    readers = Readers([("niger", topic, TOPIC_PATH)], workers=2)
    try:
        readers.warm_up()
        pool = readers._executor()
        assert pool is not None
        pids = [f.result(timeout=30) for f in [pool.submit(workers._ready) for _ in range(20)]]
        results = read_all(readers, pages, POOL_THRESHOLD)
    except BaseException:
        readers._discard_pool()  # a pool stuck for ever would hold close() with it
        raise
    finally:
        readers.close()
    assert len(set(pids)) >= 20 // 3
    assert all(not isinstance(r, BaseException) for r in results)
    assert all(list(facts) == ["niger"] for _, facts in results)
