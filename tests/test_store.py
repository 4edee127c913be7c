from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.models import Article, FeedItem
from watcher.store import SCHEMA_VERSION, Store, StoreError, open_store

NOW = datetime(2024, 8, 6, 12, tzinfo=UTC)


def test_new_database_is_wal_and_versioned(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/state/w.db")
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    with sqlite3.connect(tmp_path / "state" / "w.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "sources",
        "items",
        "articles",
        "observations",
        "knowledge",
        "changes",
        "alerts",
    } <= tables


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    open_store(f"sqlite:///{tmp_path}/w.db").close()
    with sqlite3.connect(tmp_path / "w.db") as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema 99, newer than"):
        open_store(f"sqlite:///{tmp_path}/w.db")


def test_items_articles_and_retries(db_url: str) -> None:
    store = open_store(db_url)
    items = [
        FeedItem("s", "a", "http://x.test/a", "A", None),
        FeedItem("s", "b", "http://x.test/b", "B", None),
        FeedItem("s", "c", None, "No link", None),
    ]
    with store.transaction() as conn:
        store.add_items(conn, items, at=NOW)
    assert store.known_item_ids("s", ["a", "b", "c", "d"]) == {"a", "b", "c"}
    assert store.known_item_ids("other", ["a"]) == set()
    pending = {p.item_id: p for p in store.pending_items("s", max_attempts=2, limit=10)}
    assert set(pending) == {"a", "b"}  # an item without a link has nothing to fetch

    article = Article("http://x.test/a", "A", "Text of A.", NOW, source="s")
    with store.transaction() as conn:
        store.save_article(conn, pending["a"], article, at=NOW)
        store.record_item_failure(conn, pending["b"], "HTTP 500", max_attempts=2)
    [b] = store.pending_items("s", max_attempts=2, limit=10)
    assert (b.item_id, b.attempts) == ("b", 1)
    with store.transaction() as conn:
        store.record_item_failure(conn, b, "HTTP 500", max_attempts=2)
    assert store.pending_items("s", max_attempts=2, limit=10) == []
    assert store.counts() == {"sources": 0, "items": 3, "articles": 1}


def test_source_failure_keeps_validators_of_last_success(db_url: str) -> None:
    store = open_store(db_url)
    with store.transaction() as conn:
        store.record_source(conn, "s", "http://x.test/f", at=NOW, etag='"v1"', body_hash="h")
    with store.transaction() as conn:
        store.record_source(conn, "s", "http://x.test/f", at=NOW, error="HTTP 500")
        store.record_source(conn, "s", "http://x.test/f", at=NOW, error="HTTP 500")
    state = store.source_state("s", "http://x.test/f")
    assert (state.etag, state.body_hash, state.consecutive_failures) == ('"v1"', "h", 2)
    assert state.last_error == "HTTP 500" and state.last_success == NOW
    # A source whose URL changed starts afresh.
    assert store.source_state("s", "http://x.test/other").etag is None


def test_unwritable_state_directory_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create the state directory"):
        open_store(f"sqlite:///{blocker}/sub/w.db")


def test_a_transaction_that_fails_stores_nothing(db_url: str) -> None:
    store = open_store(db_url)
    items = [FeedItem("s", "a", "http://x.test/a", "A", None)]
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.add_items(conn, items, at=NOW)
        raise RuntimeError("the pass died before its results were stored")
    assert store.known_item_ids("s", ["a"]) == set()
    store.close()


def test_writers_take_turns_on_every_backend(db_url: str) -> None:
    """A writing transaction holds the write lock from its first statement (SQLite's
    BEGIN IMMEDIATE, PostgreSQL's advisory lock), so what it read is still true when
    it writes: two stores adding to the same count, read then written, lose nothing."""
    stores = [open_store(db_url) for _ in range(3)]

    def add(store: Store) -> None:
        for _ in range(20):
            with store.transaction() as conn:
                count = int(store.read_meta(conn, "n") or 0)
                store.put_meta(conn, "n", str(count + 1))

    threads = [threading.Thread(target=add, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert stores[0].get_meta("n") == "60"
    for store in stores:
        store.close()


def test_a_database_server_that_cannot_be_reached_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@/watcher?host={tmp_path}"
    with pytest.raises(StoreError) as raised:
        open_store(url)
    message = str(raised.value)
    assert message.startswith("postgresql+psycopg://postgres@/watcher?host=")
    assert "state database unreachable" in message and "\n" not in message
