"""The JSON kept in columns (facts, knowledge, changes, corrections, alert payloads) carries
its version: written as {"v": 1, ...}; rows from before versions read as they always did;
a version this watcher does not know is reported in one line and the row skipped."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from watcher.alerts.outbox import Outbox, enqueue
from watcher.models import AlertKind, ChangeStatus
from watcher.store import (
    CorrectionKind,
    Store,
    alerts,
    changes,
    corrections,
    knowledge,
    observations,
    open_store,
)

NOW = datetime(2024, 8, 6, 12, tzinfo=UTC)
FACT = {"key": "us_forces.troop_count", "kind": "quantity", "value": 1000, "qualifier": "about"}
CHANGE = {"identity": "us_forces.troop_count:1000>600", "new": {"value": 600}, "evidence": [{}]}


def write_one_of_each(store: Store) -> None:
    with store.transaction() as conn:
        store.add_observations(conn, None, "niger", [FACT], at=NOW)
        store.save_knowledge(conn, "niger", {FACT["key"]: FACT}, at=NOW)
        store.upsert_change(
            conn, "niger", CHANGE["identity"], FACT["key"], ChangeStatus.REPORTED, CHANGE, at=NOW
        )
        store.add_correction(
            conn,
            story="niger",
            kind=CorrectionKind.SET,
            key=FACT["key"],
            data=FACT,
            by="ed",
            at=NOW,
        )
        enqueue(
            conn,
            kind=AlertKind.DIGEST,
            channel="slack",
            idempotency_key="digest:1",
            subject_key="digest",
            payload={"title": "Daily digest"},
            at=NOW,
        )


def read_all(store: Store) -> dict[str, Any]:
    outbox = Outbox(store, max_attempts=3, backoff=1, backoff_max=1)
    with store.engine.connect() as conn:
        return {
            "observations": store.observations_of(conn, "niger", FACT["key"]),
            "knowledge": store.read_knowledge(conn, "niger"),
            "changes": [
                (c.identity, c.evidence, c.new)
                for c in store.changes_of(conn, "niger", [FACT["key"]])
            ],
            "listed": [{k: c[k] for k in CHANGE} for c in store.list_changes()],
            "corrections": [c.data for c in store.read_corrections(conn)],
            "alerts": [alert.payload for alert in outbox.listing()],
        }


EXPECTED = {
    "observations": [FACT],
    "knowledge": {FACT["key"]: FACT},
    "changes": [(CHANGE["identity"], 1, (600, None))],
    "listed": [CHANGE],
    "corrections": [FACT],
    "alerts": [{"title": "Daily digest"}],
}
COLUMNS = [
    (observations, observations.c.data),
    (knowledge, knowledge.c.data),
    (changes, changes.c.data),
    (corrections, corrections.c.data),
    (alerts, alerts.c.payload),
]


def rewrite(store: Store, change: Any) -> None:
    """Pass every row's JSON through ``change`` (a dict in, a dict out)."""
    with store.transaction() as conn:
        for table, column in COLUMNS:
            for row in conn.execute(select(table)).mappings().all():
                where = [key == row[key.name] for key in table.primary_key.columns]
                data = json.dumps(change(json.loads(row[column.name])))
                conn.execute(update(table).where(*where).values({column.name: data}))


def stored(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return [
            json.loads(text)
            for _, column in COLUMNS
            for text in conn.execute(select(column)).scalars()
        ]


def test_json_columns_are_written_with_their_version_and_read_without_it(db_url: str) -> None:
    store = open_store(db_url)
    try:
        write_one_of_each(store)
        assert [data["v"] for data in stored(store)] == [1] * len(COLUMNS)
        assert read_all(store) == EXPECTED
    finally:
        store.close()


def test_json_written_before_versions_reads_as_it_did(db_url: str) -> None:
    store = open_store(db_url)
    try:
        write_one_of_each(store)
        rewrite(store, lambda data: {k: v for k, v in data.items() if k != "v"})
        assert not any("v" in data for data in stored(store))
        assert read_all(store) == EXPECTED
    finally:
        store.close()


def test_an_unknown_version_is_one_line_naming_the_row_and_the_row_is_skipped(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(db_url)
    try:
        write_one_of_each(store)
        rewrite(store, lambda data: {**data, "v": 2})
        with caplog.at_level(logging.ERROR, logger="watcher.store"):
            found = read_all(store)
        assert found == {
            "observations": [],
            "knowledge": {},
            "changes": [("", 0, None)],  # the fold still sees the row, with nothing in it
            "listed": [],
            "corrections": [],
            "alerts": [],
        }
        lines = [r.getMessage() for r in caplog.records]
        for table in ("observations", "knowledge", "changes", "corrections", "alerts"):
            row = "'us_forces.troop_count'" if table == "knowledge" else "1"
            assert (
                f"state database: {table} row {row} holds data of version 2, unknown to this "
                "watcher, and was skipped"
            ) in lines, lines
        assert all("\n" not in line for line in lines)
    finally:
        store.close()
