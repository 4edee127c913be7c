"""Running totals for the metrics, kept in the state database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from watcher.counters import Counter, Tally, read_totals
from watcher.store import SCHEMA_VERSION, StoreError, open_store


def test_totals_add_up_across_transactions_and_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/w.db"
    first, second = open_store(url), open_store(url)
    for store, outcome in ((first, "new"), (second, "new"), (second, "failed")):
        tally = Tally()
        tally.add(Counter.POLLS, source="wire", outcome=outcome)
        tally.add(Counter.FACTS_READ, 3, source="wire")
        tally.add(Counter.FACTS_READ, 0, source="quiet")  # nothing to add: no row
        with store.transaction() as conn:
            tally.write(conn)
    totals = {(t.name, tuple(sorted(t.labels.items()))): t.value for t in read_totals(first)[0]}
    assert totals == {
        ("watcher_polls", (("outcome", "new"), ("source", "wire"))): 2.0,
        ("watcher_polls", (("outcome", "failed"), ("source", "wire"))): 1.0,
        ("watcher_facts_read", (("source", "wire"),)): 9.0,
    }


def test_a_transaction_that_fails_adds_nothing(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/w.db")
    tally = Tally()
    tally.add(Counter.CHANGES, key="k", event="new")
    with pytest.raises(RuntimeError), store.transaction() as conn:
        tally.write(conn)
        raise RuntimeError("the pass died before its results were stored")
    assert read_totals(store)[0] == []


def test_pass_durations_are_a_cumulative_histogram(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/w.db")
    tally = Tally()
    for seconds in (0.1, 0.4, 3.0, 900.0):
        tally.observe_pass(seconds)
    with store.transaction() as conn:
        tally.write(conn)
    _, durations = read_totals(store)
    buckets = dict(durations.buckets)
    assert (buckets["0.25"], buckets["0.5"], buckets["2.5"], buckets["5.0"]) == (1, 2, 2, 3)
    assert (buckets["600.0"], buckets["+Inf"]) == (3, 4)
    assert durations.count == 4 and durations.total_seconds == pytest.approx(903.5)
    assert [b for b, _ in durations.buckets][-1] == "+Inf"


def test_an_empty_database_has_every_bucket_at_zero(tmp_path: Path) -> None:
    _, durations = read_totals(open_store(f"sqlite:///{tmp_path}/w.db"))
    assert durations.count == 0 and all(n == 0 for _, n in durations.buckets)


def test_a_newer_schema_is_still_refused(tmp_path: Path) -> None:
    open_store(f"sqlite:///{tmp_path}/w.db").close()
    with sqlite3.connect(tmp_path / "w.db") as conn:
        conn.execute(f"UPDATE meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    newer = f"schema {SCHEMA_VERSION + 1}, newer than this watcher understands"
    with pytest.raises(StoreError, match=newer):
        open_store(f"sqlite:///{tmp_path}/w.db")
