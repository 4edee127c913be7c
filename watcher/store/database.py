"""Opening the state database: the engine for SQLite or a server, the schema's
version checked or upgraded, transactions, and the meta table.

SQLite by default (WAL, a busy timeout, so a second process can read while
the daemon writes).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, update
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from watcher.store.schema import SCHEMA_VERSION, WRITE_LOCK, meta

log = logging.getLogger("watcher.store")


class StoreError(Exception):
    """The state database cannot be opened or used; ``str()`` is one line."""


class StoreGone(StoreError):
    """The SQLite file was deleted or replaced while it was open: stop using it."""


class _NothingYet(Exception):
    """A database server's database where watcher has made nothing yet (read-only open)."""


class StoreUnavailable(StoreError):
    """The database server cannot be reached (down, restarting, the network): wait for it."""


def _enable_wal(cursor: Any, attempts: int = 100) -> None:
    """Switch to WAL. On a new file this takes an exclusive lock, and SQLite answers
    "locked" at once, without its busy timeout, to a second process doing the same
    at that moment: try again for a few seconds."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event, not the driver, open transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    _enable_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_begin(conn: Connection) -> None:
    # A writing transaction takes SQLite's write lock at once, so two writers
    # (daemon jobs, or a daemon and a manual check) queue on the busy timeout
    # instead of failing half-way when one tries to upgrade a read lock.
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _on_begin_server(conn: Connection) -> None:
    # PostgreSQL: a writing transaction holds one advisory lock until it ends, so
    # writers from every worker take turns as SQLite's do, and what a transaction
    # reads before it writes (knowledge it folds into, an alert it may queue) is
    # what the one before it left. Claims, heartbeats and host turns are built for
    # concurrency (row locks, SKIP LOCKED) and do not take it.
    if conn.get_execution_options().get("immediate", False):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")


def _server_unreachable(context: ExceptionContext) -> bool:
    """Whether a database server error means the server is away, not that a statement
    was wrong: a lost connection, a refused one, a server shutting down or starting."""
    if context.is_disconnect:
        return True
    import psycopg

    errors = psycopg.errors
    original = context.original_exception
    if isinstance(original, errors.AdminShutdown | errors.CrashShutdown | errors.CannotConnectNow):
        return True
    return context.connection is None and isinstance(original, psycopg.OperationalError)


def _on_connect_read_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL; None for another database or an in-memory one."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _read_only_engine(path: Path, *, immutable: bool) -> Engine:
    """An engine that only reads ``path``, for users who may not write beside it.

    ``immutable`` is for a WAL database whose -shm file cannot be made here: with
    no -wal file, nothing is waiting to be checkpointed, and SQLite may read the
    file as it is.
    """
    uri = f"file:{quote(str(path.resolve()))}?" + ("immutable=1" if immutable else "mode=ro")
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
    )
    event.listen(engine, "connect", _on_connect_read_only)
    event.listen(engine, "begin", _on_begin)
    return engine


def _hint(path: Path | None, problem: str) -> str:
    """What to do about an SQLite file that cannot be opened or written."""
    if path is None:
        return ""
    if "file is not a database" in problem:
        return f" ({path} is not an SQLite database: point [state] path at another file)"
    if "unable to open" not in problem and "readonly" not in problem:
        return ""
    folder = path.parent
    if not path.exists() and not os.access(folder, os.W_OK):
        return (
            f" (cannot create it: {folder} is not writable by this user; "
            "set [state] path to a writable place)"
        )
    if path.exists() and not os.access(path, os.W_OK):
        return f" (this user may not write {path})"
    if not os.access(folder, os.W_OK):
        return (
            f" ({folder} is not writable by this user, and SQLite keeps its -wal and -shm "
            "files beside the database)"
        )
    return ""


def display_url(url: str) -> str:
    """A database URL fit to show in messages and ``--json``: its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            "state.url: not a database URL (expected sqlite:///PATH or postgresql+psycopg://...)"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the state directory: {exc.strerror}") from None
    try:
        # A server's connection broken while it was away is a disconnect (see
        # _on_server_error): the pool drops it and every other, and opens new ones.
        engine = create_engine(url)
    except ImportError as exc:
        raise StoreError(
            f"{display_url(url)}: cannot open state database: the {parsed.drivername} driver "
            f"is not installed ({exc})"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
    else:
        event.listen(engine, "begin", _on_begin_server)
    return engine


class Database:
    """The state database opened: its engine, schema, transactions and meta table.
    ``Store`` (watcher.store) adds the queries of each kind of row; see its docstring."""

    def __init__(self, url: str, *, read_only: bool = False, upgrade: bool | None = None) -> None:
        self.url = url
        self.read_only = read_only
        # The schema versions before and after opening (the same when nothing was done).
        self.upgraded: tuple[int, int] = (SCHEMA_VERSION, SCHEMA_VERSION)
        self._writer: ThreadPoolExecutor | None = None
        self._writer_lock = threading.Lock()
        self._opening = True
        path = self._sqlite_path()
        if read_only and path is not None:
            self._open_read_only(path)
        else:
            self.engine = _engine(url)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "handle_error", self._on_error)
            else:
                event.listen(self.engine, "handle_error", self._on_server_error)
            try:
                if read_only:
                    self._check_server_schema()
                else:
                    self._migrate(upgrade)
            except OperationalError as exc:
                problem = " ".join(str(exc.orig).split())
                raise StoreError(
                    f"{self._where()}: cannot open state database: {problem}" + _hint(path, problem)
                ) from None
        self._opening = False
        self._file = self._identity()

    def _open_read_only(self, path: Path) -> None:
        self.engine = _read_only_engine(path, immutable=False)
        event.listen(self.engine, "handle_error", self._on_error)
        try:
            self._check_schema()
        except StoreError:
            if Path(f"{path}-wal").exists():
                raise
            self.engine.dispose()
            self.engine = _read_only_engine(path, immutable=True)
            event.listen(self.engine, "handle_error", self._on_error)
            self._check_schema()

    def _check_schema(self) -> None:
        """For a read-only store: the database must be one this watcher can read as it is."""
        with self.engine.connect() as conn:
            made = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).first()
            version = int(self.read_meta(conn, "schema_version") or 0) if made else 0
        if made is None:  # a file being created right now: nothing in it yet
            self.engine.dispose()
            raise _NothingYet
        if version != SCHEMA_VERSION:
            newer = version > SCHEMA_VERSION
            raise StoreError(
                f"{self._where()}: state database is schema {version}, "
                + (
                    f"newer than this watcher understands ({SCHEMA_VERSION}); upgrade watcher"
                    if newer
                    else f"older than this watcher's ({SCHEMA_VERSION}); run `watcher check` "
                    "as a user who may write it, to upgrade it"
                )
            )

    def _sqlite_path(self) -> Path | None:
        return sqlite_path(self.url)

    def writer(self) -> ThreadPoolExecutor:
        """One thread for this process's writes, so writers queue here rather than in
        SQLite's busy wait, and a write stuck behind another process's lock holds up
        only this thread."""
        with self._writer_lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="watcher-store")
            return self._writer

    def _identity(self) -> tuple[int, int] | None:
        """The SQLite file's device and inode; None for other databases (or if it is gone)."""
        path = self._sqlite_path()
        if path is None:
            return None
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        return info.st_dev, info.st_ino

    def _check_same_file(self) -> None:
        """Raise StoreError when the SQLite file opened is no longer the one at its path."""
        if self._file is not None and self._identity() != self._file:
            raise StoreGone(
                f"{self._where()}: the state database was deleted or replaced while watcher "
                "was using it; nothing more was written to it"
            )

    def _on_error(self, context: ExceptionContext) -> None:
        """SQLite failing (read-only, damaged, a file gone) becomes one StoreError line."""
        original = context.original_exception
        if type(original) in (sqlite3.OperationalError, sqlite3.DatabaseError):
            action = "cannot open state database: " if self._opening else ""
            problem = " ".join(str(original).split())
            hint = _hint(self._sqlite_path(), problem)
            raise StoreError(f"{self._where()}: {action}{problem}{hint}")

    def _on_server_error(self, context: ExceptionContext) -> None:
        """A database server that cannot be reached becomes one StoreUnavailable line."""
        if _server_unreachable(context):
            problem = " ".join(str(context.original_exception).split())
            raise StoreUnavailable(f"{self._where()}: state database unreachable: {problem}")

    def _where(self) -> str:
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite" and url.database:
            return url.database
        return display_url(self.url)

    def _migrate(self, upgrade: bool | None) -> None:
        """Bring the schema up to date, or say in one line why not.

        ``upgrade`` None: an SQLite file is upgraded as it is opened (one machine,
        nothing to set up), and so is an empty database; an older PostgreSQL
        schema is left to ``watcher db upgrade``, run once while no older worker
        uses it. True: upgrade whatever the database.
        """
        from watcher import migrations

        with self.engine.execution_options(immediate=True).begin() as conn:
            try:
                version = migrations.current(conn)
                automatic = self.engine.dialect.name == "sqlite" or version == 0
                if version < SCHEMA_VERSION and not (upgrade or (upgrade is None and automatic)):
                    raise StoreError(
                        f"{self._where()}: state database is schema {version}, older than "
                        f"this watcher's ({SCHEMA_VERSION}): run `watcher db upgrade` once "
                        "(with the workers of the older watcher stopped)"
                    )
                self.upgraded = migrations.upgrade(conn, SCHEMA_VERSION)
                before, after = self.upgraded
                if 0 < before < after:
                    log.info("%s: schema upgraded from %d to %d", self._where(), before, after)
            except migrations.SchemaError as exc:
                raise StoreError(f"{self._where()}: state database {exc}") from None

    def _check_server_schema(self) -> None:
        """For a reader of a database server: the schema must be this watcher's."""
        from watcher import migrations

        with self.engine.connect() as conn:
            try:
                version = migrations.current(conn)
            except migrations.SchemaError as exc:
                raise StoreError(f"{self._where()}: state database {exc}") from None
        if version == 0:
            self.engine.dispose()
            raise _NothingYet
        if version != SCHEMA_VERSION:
            advice = (
                "upgrade watcher"
                if version > SCHEMA_VERSION
                else "run `watcher db upgrade` (or start watcher once)"
            )
            raise StoreError(
                f"{self._where()}: state database is schema {version}, and this watcher's is "
                f"{SCHEMA_VERSION}: {advice}"
            )

    @staticmethod
    def put_meta(conn: Connection, key: str, value: str) -> None:
        if conn.execute(select(meta.c.key).where(meta.c.key == key)).first():
            conn.execute(update(meta).where(meta.c.key == key).values(value=value))
        else:
            conn.execute(insert(meta).values(key=key, value=value))

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            self.put_meta(conn, key, value)

    @staticmethod
    def read_meta(conn: Connection, key: str) -> str | None:
        return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return self.read_meta(conn, key)

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(meta.c.value).where(meta.c.key == "schema_version")
            ).scalar_one()
        return int(value)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A writing transaction: all of it is stored, or none of it."""
        try:
            with self.engine.execution_options(immediate=True).begin() as conn:
                yield conn
                self._check_same_file()
        except DatabaseError as exc:
            raise StoreError(f"{self._where()}: {exc.orig}") from None

    def ping(self) -> None:
        """Reach the database (StoreUnavailable when its server is away)."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def close(self) -> None:
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)
        self.engine.dispose()
