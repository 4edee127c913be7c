from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.models import Article, FeedItem
from watcher.store import SCHEMA_VERSION, StoreError, open_store

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


def test_items_articles_and_retries(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/w.db")
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


def test_source_failure_keeps_validators_of_last_success(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/w.db")
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
