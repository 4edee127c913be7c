"""Schema versions: every earlier release's database comes up to the schema a new one gets,
on SQLite and PostgreSQL, with its rows; `watcher db upgrade`; what is refused."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.support.pgcluster import Cluster
from watcher import migrations
from watcher.store import SCHEMA_VERSION, StoreError, metadata, open_store

FIXTURES = Path(__file__).parent / "fixtures"
# Databases left by each earlier release (its demo's three passes, dumped by sqlite3;
# schema-3.sql, the demo's first pass and a correction, serves test_sources).
RELEASES = {1: "schema-1.sql", 2: "schema-2.sql", 3: "schema-3-demo.sql", 4: "schema-4.sql"}
WATCHER = [sys.executable, "-m", "watcher"]


def differences(url: str) -> list[Any]:
    """What Alembic finds between the database and the tables watcher declares."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": migrations.VERSION_TABLE}
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def shape(url: str) -> dict[str, Any]:
    """Tables, columns (type, nullable, key), indexes and unique constraints."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            return {
                table: (
                    [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
                    found.get_pk_constraint(table)["constrained_columns"],
                    sorted((i["name"], tuple(i["column_names"])) for i in found.get_indexes(table)),
                    sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
                )
                for table in sorted(found.get_table_names())
                if table != migrations.VERSION_TABLE
            }
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("items", "articles", "observations", "knowledge", "changes", "alerts")
            }
    finally:
        engine.dispose()


def load_release(path: Path, version: int) -> str:
    """An SQLite file as release ``version`` left it."""
    with sqlite3.connect(path) as conn:
        conn.executescript((FIXTURES / RELEASES[version]).read_text())
    return f"sqlite:///{path}"


def to_revision(url: str, version: int) -> None:
    """Bring an empty database to schema ``version`` with the migrations alone."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            config = migrations._config(connection=conn)
            command.upgrade(config, migrations.revision_of(version))
    finally:
        engine.dispose()


def copy_release_rows(version: int, folder: Path, target: psycopg.Connection) -> None:
    """Insert the rows a release's database held, parents first."""
    source = sqlite3.connect(load_release(folder / f"release-{version}.db", version)[10:])
    try:
        tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master")}
        for table in (t.name for t in metadata.sorted_tables if t.name in tables):
            cursor = source.execute(f"SELECT * FROM {table}")
            columns = ", ".join(f'"{d[0]}"' for d in cursor.description)
            marks = ", ".join(["%s"] * len(cursor.description))
            for row in cursor:
                target.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)
    finally:
        source.close()


def test_the_schema_version_is_the_newest_migration() -> None:
    assert migrations.head() == SCHEMA_VERSION


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_each_migration_makes_the_schema_that_release_made(tmp_path: Path, version: int) -> None:
    """The frozen steps are what each release really created (SQLite, as released)."""
    released = load_release(tmp_path / "released.db", version)
    migrated = f"sqlite:///{tmp_path}/migrated.db"
    to_revision(migrated, version)
    assert shape(migrated) == shape(released)


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_a_release_database_is_upgraded_on_open_with_its_rows(tmp_path: Path, version: int) -> None:
    url = load_release(tmp_path / "w.db", version)
    before = counts(url)
    store = open_store(url)
    assert store.upgraded == (version, SCHEMA_VERSION)
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    assert differences(url) == []
    assert counts(url) == before and before["alerts"] == 10
    # Opened again: nothing left to do.
    again = open_store(url)
    assert again.upgraded == (SCHEMA_VERSION, SCHEMA_VERSION)
    again.close()


def test_a_new_database_has_exactly_the_declared_tables(db_url: str) -> None:
    open_store(db_url).close()
    assert differences(db_url) == []


@pytest.mark.slow
@pytest.mark.postgresql
@pytest.mark.parametrize("version", sorted(RELEASES))
@pytest.mark.parametrize("stamped", [True, False], ids=["alembic", "before-alembic"])
def test_a_postgresql_database_of_each_release_upgrades_with_its_rows(
    postgres: Cluster, tmp_path: Path, version: int, stamped: bool
) -> None:
    name = postgres.create_database()
    url = postgres.url(name)
    try:
        to_revision(url, version)
        with postgres.connect(name) as conn:
            copy_release_rows(version, tmp_path, conn)
            if not stamped:  # as a release before Alembic left it: meta only
                conn.execute(f"DROP TABLE {migrations.VERSION_TABLE}")
        before = counts(url)
        # A database of an earlier release is not upgraded behind the other workers' backs.
        with pytest.raises(
            StoreError, match=rf"is schema {version}, older .* `watcher db upgrade`"
        ):
            open_store(url)
        store = open_store(url, upgrade=True)
        assert store.upgraded == (version, SCHEMA_VERSION)
        store.close()
        assert differences(url) == []
        assert counts(url) == before
    finally:
        postgres.drop_database(name)


@pytest.mark.postgresql
def test_workers_starting_together_on_an_empty_database_create_it_once(
    postgres: Cluster,
) -> None:
    name = postgres.create_database()
    url = postgres.url(name)
    outcomes: list[object] = []

    def start() -> None:
        try:
            store = open_store(url)
            outcomes.append(store.upgraded)
            store.close()
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert sorted(outcomes) == [(0, SCHEMA_VERSION)] + [(SCHEMA_VERSION, SCHEMA_VERSION)] * 3
        assert differences(url) == []
    finally:
        postgres.drop_database(name)


def write_config(folder: Path, url: str) -> Path:
    config = folder / "watcher.toml"
    key = "url" if "://" in url else "path"
    config.write_text(
        f'[state]\n{key} = "{url}"\n[[sources]]\nname = "a"\nurl = "https://a.example/f"\n'
    )
    return config


@pytest.mark.slow
@pytest.mark.postgresql
def test_db_upgrade_then_the_daemon_starts_and_before_it_refuses_in_one_line(
    postgres: Cluster, tmp_path: Path
) -> None:
    name = postgres.create_database()
    url = postgres.url(name)
    to_revision(url, 3)
    config = write_config(tmp_path, url)
    run = subprocess.run(
        [*WATCHER, "run", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    [line] = run.stderr.splitlines()
    assert re.fullmatch(
        r"watcher: error: postgresql\+psycopg://postgres@/\w+\?host=\S+: state database is "
        rf"schema 3, older than this watcher's \({SCHEMA_VERSION}\): run `watcher db upgrade` "
        r"once \(with the "
        r"workers of the older watcher stopped\)",
        line,
    ), line
    upgraded = subprocess.run(
        [*WATCHER, "db", "upgrade", "--config", str(config)], capture_output=True, text=True
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.endswith(f": upgraded from schema 3 to {SCHEMA_VERSION}\n")
    again = subprocess.run(
        [*WATCHER, "db", "upgrade", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
    )
    assert json.loads(again.stdout)["from"] == json.loads(again.stdout)["to"] == SCHEMA_VERSION
    assert again.returncode == 0
    postgres.drop_database(name)


@pytest.mark.slow
def test_a_schema_newer_than_this_watcher_is_refused_saying_what_to_do(
    db_url: str, tmp_path: Path
) -> None:
    open_store(db_url).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {migrations.VERSION_TABLE} SET version_num = '0099'"))
    engine.dispose()
    for upgrade in (None, True):
        with pytest.raises(StoreError, match=r"is schema 99, newer than this watcher understands"):
            open_store(db_url, upgrade=upgrade)
    result = subprocess.run(
        [*WATCHER, "db", "upgrade", "--config", str(write_config(tmp_path, db_url))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert (
        result.stderr.endswith(f"({SCHEMA_VERSION}); upgrade watcher\n")
        and result.stderr.count("\n") == 1
    )


def test_a_database_of_another_application_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(StoreError, match=r"holds other tables \(invoices\) and no watcher schema"):
        open_store(f"sqlite:///{tmp_path}/other.db")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, once for each backend, for a migration to start from."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state.db"
        return
    postgres: Cluster = request.getfixturevalue("postgres")
    name = postgres.create_database()
    try:
        yield postgres.url(name)
    finally:
        postgres.drop_database(name)


def alert_markers(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("alerts")}
            parts = ", parts_delivered" if "parts_delivered" in columns else ""
            query = f"SELECT id, state, message_id{parts} FROM alerts ORDER BY id"
            return [tuple(row) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


def test_the_parts_delivered_of_a_split_message_move_to_a_column_of_their_own(
    empty_url: str,
) -> None:
    """Schema 5 kept them in message_id; schema 6 keeps only Message-IDs there, and going
    back to 5 writes them back."""
    to_revision(empty_url, 5)
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        for row_id, state, message_id in (
            (1, "sending", "parts-delivered:2"),
            (2, "sent", "<change-1@watcher.example>"),
            (3, "pending", None),
        ):
            conn.execute(
                text(
                    "INSERT INTO alerts (id, kind, subject_key, channel, idempotency_key, "
                    "payload, state, attempts, next_attempt, created_at, message_id) VALUES "
                    "(:id, 'digest', 'digest', 'slack', :key, '{}', :state, 1, :at, :at, :mid)"
                ),
                {
                    "id": row_id,
                    "key": f"digest:{row_id}",
                    "state": state,
                    "at": "2024-08-12 06:00:00",
                    "mid": message_id,
                },
            )
    engine.dispose()
    store = open_store(empty_url, upgrade=True)
    assert store.upgraded == (5, SCHEMA_VERSION)
    store.close()
    assert differences(empty_url) == []
    assert alert_markers(empty_url) == [
        (1, "sending", None, 2),
        (2, "sent", "<change-1@watcher.example>", 0),
        (3, "pending", None, 0),
    ]
    engine = create_engine(empty_url)
    try:
        with engine.begin() as conn:
            command.downgrade(migrations._config(connection=conn), migrations.revision_of(5))
    finally:
        engine.dispose()
    assert alert_markers(empty_url) == [
        (1, "sending", "parts-delivered:2"),
        (2, "sent", "<change-1@watcher.example>"),
        (3, "pending", None),
    ]
