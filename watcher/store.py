"""State in a real database, through SQLAlchemy Core.

SQLite by default (WAL, a busy timeout, so a second process can read while
the daemon writes). Every table a later stage needs is created by the
migrations below; ``schema_version`` records how far a database has come.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, overload
from urllib.parse import quote

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import CursorResult, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError, SQLAlchemyError

from watcher.models import Article, ChangeStatus, FeedItem

log = logging.getLogger(__name__)


class ItemState(StrEnum):
    """What became of a feed item's article."""

    PENDING = "pending"  # not fetched yet (or failed, to be tried again)
    DONE = "done"  # stored (or the item has no link: no article to fetch)
    FAILED = "failed"  # failed articles.max_attempts times: given up
    UNRELATED = "unrelated"  # not fetched: its title and summary name nothing of a story


class StoreError(Exception):
    """The state database cannot be opened or used; ``str()`` is one line."""


class StoreGone(StoreError):
    """The SQLite file was deleted or replaced while it was open: stop using it."""


class _NothingYet(Exception):
    """A database server's database where watcher has made nothing yet (read-only open)."""


class StoreUnavailable(StoreError):
    """The database server cannot be reached (down, restarting, the network): wait for it."""


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("name", String, primary_key=True),
    Column("url", String, nullable=False),
    Column("added_at", DateTime(timezone=True)),
    Column("etag", String),
    Column("last_modified", String),
    Column("body_hash", String),
    Column("last_attempt", DateTime(timezone=True)),
    Column("last_success", DateTime(timezone=True)),
    Column("last_new_item", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    # ok, failing or silent: what the last health alert said about this source.
    Column("health", String, nullable=False, default="ok"),
    Column("health_since", DateTime(timezone=True)),
    # The feed found on a site's page (kind auto), polled instead of the page.
    Column("feed_url", String),
)

items = Table(
    "items",
    metadata,
    Column("source", String, primary_key=True),
    Column("item_id", String, primary_key=True),
    Column("link", String),
    Column("title", String),
    Column("published", DateTime(timezone=True)),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    # An ItemState: pending, done, failed or unrelated.
    Column("state", String, nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("ix_items_state", "source", "state"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String, nullable=False, unique=True),
    Column("canonical_url", String),
    Column("source", String),
    Column("item_id", String),
    Column("title", String),
    Column("published", DateTime(timezone=True)),
    Column("text", Text, nullable=False),
    Column("text_hash", String, nullable=False, index=True),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    # Revisits: the page's validators for a conditional GET, when it was first
    # fetched, how often it was fetched again, when next (None: no more), and which
    # version of its text is stored (0: the first; each changed text adds one).
    Column("etag", String),
    Column("last_modified", String),
    Column("first_fetched", DateTime(timezone=True)),
    Column("revisits", Integer, nullable=False, default=0),
    Column("revisit_at", DateTime(timezone=True), index=True),
    Column("revision", Integer, nullable=False, default=0),
)

# The story of rows written before a config could follow several: the first
# story of the config that opens the database takes them (see adopt_legacy).
LEGACY_STORY = ""

# One value of one fact read from one article (kept with its evidence), for one story.
observations = Table(
    "observations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("key", String, nullable=False, index=True),
    Column("data", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("story", String, nullable=False, server_default=LEGACY_STORY),
)


def _knowledge_table(name: str, schema: MetaData) -> Table:
    return Table(
        name,
        schema,
        Column("story", String, primary_key=True),
        Column("key", String, primary_key=True),
        Column("data", Text, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )


# Current knowledge per story and fact key, as the comparison stage serialises it.
knowledge = _knowledge_table("knowledge", metadata)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String, nullable=False, index=True),
    # The story, then what changed from what to what (Change.identity): unique.
    Column("identity", String, nullable=False, unique=True),
    Column("status", String, nullable=False),
    Column("data", Text, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("story", String, nullable=False, server_default=LEGACY_STORY),
    Index("ix_changes_story_key", "story", "key"),
)


class CorrectionKind(StrEnum):
    """What a person (or the config) said about a story's facts."""

    REJECT = "reject"  # a change read wrongly: its observations no longer count
    SET = "set"  # a value a person knows (`watcher facts set`)
    PIN = "pin"  # a value pinned in the config ([facts.pins], a story's pins)


# Corrections, kept for good: undoing one marks it undone, and the fact is folded again.
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("story", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("key", String, nullable=False),
    Column("change_id", Integer, ForeignKey("changes.id")),
    # reject: the change's identity and the evidence rejected; set and pin: value,
    # qualifier and as_of.
    Column("data", Text, nullable=False),
    Column("why", Text),
    Column("by", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("undone_at", DateTime(timezone=True)),
    Column("undone_by", String),
    Index("ix_corrections_story", "story", "key"),
)

# The outbox: every message to send, written in the same transaction as the
# change that causes it, before anything is sent.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    # change, digest or health
    Column("kind", String, nullable=False),
    Column("change_id", Integer, ForeignKey("changes.id")),
    # What the alert is about, for threading follow-ups (a fact key, a source).
    Column("subject_key", String, nullable=False),
    Column("channel", String, nullable=False),
    Column("idempotency_key", String, nullable=False, unique=True),
    Column("payload", Text, nullable=False),
    # pending, sending, sent, failed, uncertain (died between sending and recording)
    Column("state", String, nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("message_id", String),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_alerts_state", "state", "next_attempt"),
)

# Running totals for the metrics (polls, failures by reason, facts read, ...), added to
# in the same transaction as what they count, so every process that writes (the
# daemon, `watcher check` on a timer) adds to them and any process can read them.
counters = Table(
    "counters",
    metadata,
    Column("name", String, primary_key=True),
    # The metric's labels as a JSON object with sorted keys ("{}" for none).
    Column("labels", String, primary_key=True),
    Column("value", Float, nullable=False, default=0.0),
)

# Several workers sharing one database (PostgreSQL; SQLite on one machine works the
# same way). Each source's next turn, and the lease of the worker polling it now:
# a worker claims due sources, and a poll is recorded only while its claim holds.
schedule = Table(
    "schedule",
    metadata,
    Column("source", String, primary_key=True),
    Column("interval", Float, nullable=False),
    # The turn this due time belongs to (without jitter): turns follow each other
    # at the interval, whoever polls and however long a poll takes.
    Column("turn_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False, index=True),
    # The worker polling it now, until when (renewed by its heartbeat).
    Column("worker", String, index=True),
    Column("lease_until", DateTime(timezone=True)),
    # Counts claims: a poll records its results only if no later claim was made.
    Column("claims", Integer, nullable=False, server_default="0"),
    Column("last_worker", String),
    Column("last_polled", DateTime(timezone=True)),
)

# Each `watcher run` that has used the database: its heartbeat, and what it says of
# itself for `watcher status` (JSON).
workers = Table(
    "workers",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("host", String, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("stopped_at", DateTime(timezone=True)),
    # Its sources are taken over this long after its last heartbeat.
    Column("lease_seconds", Float, nullable=False),
    Column("info", Text, nullable=False),
)

# Per-host politeness shared by every worker: when the next request to a host may
# start (http.per_host_delay after the last one, whoever sent it).
host_turns = Table(
    "host_turns",
    metadata,
    Column("host", String, primary_key=True),
    Column("next_at", DateTime(timezone=True), nullable=False),
)

# The schema version this watcher writes: the newest migration in watcher/migrations.
SCHEMA_VERSION = 5
# PostgreSQL: the advisory lock that a writing transaction holds, as SQLite's BEGIN
# IMMEDIATE holds its write lock (see Store.transaction).
WRITE_LOCK = 0x77617463


def utcnow() -> datetime:
    return datetime.now(UTC)


def db_clock(conn: Connection) -> datetime:
    """Now, by the database server's clock when there is one, so that workers on
    machines whose clocks differ agree on when a lease ran out or a turn came."""
    if conn.dialect.name == "sqlite":
        return utcnow()
    return aware(conn.execute(select(func.now())).scalar_one())


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; everything here is stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class SourceState:
    name: str
    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_attempt: datetime | None
    last_success: datetime | None
    last_error: str | None
    consecutive_failures: int
    last_new_item: datetime | None = None
    added_at: datetime | None = None
    health: str = "ok"
    health_since: datetime | None = None
    feed_url: str | None = None


@dataclass(frozen=True)
class SourcePoll:
    """A successful poll to remember: the validators and body hash it leaves."""

    name: str
    url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    feed_url: str | None = None  # the feed found for a site


@dataclass(frozen=True)
class StoredChange:
    """A change row, as the fold needs it to tell what a pass did to it."""

    id: int
    identity: str
    key: str
    status: ChangeStatus
    evidence: int  # how many pieces of evidence it has
    new: tuple[Any, str | None] | None  # the value and qualifier it changed to


@dataclass(frozen=True)
class StoredCorrection:
    """A correction as stored: who made it, why, when, and whether it was undone."""

    id: int
    story: str
    kind: CorrectionKind
    key: str
    change_id: int | None
    data: dict[str, Any]
    why: str | None
    by: str
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "story": self.story,
            "kind": self.kind,
            "key": self.key,
            "change_id": self.change_id,
            **{k: v for k, v in self.data.items() if k != "evidence"},
            "why": self.why,
            "by": self.by,
            "at": self.created_at.isoformat(),
            "undone_at": self.undone_at.isoformat() if self.undone_at else None,
            "undone_by": self.undone_by,
        }


@dataclass(frozen=True)
class PendingItem:
    source: str
    item_id: str
    link: str
    title: str | None
    published: datetime | None
    attempts: int


@dataclass(frozen=True)
class DueRevisit:
    """A stored article due to be fetched again, with what the fetch and the comparison need."""

    article_id: int
    url: str
    source: str
    title: str | None
    published: datetime | None
    etag: str | None
    last_modified: str | None
    text_hash: str
    revision: int
    revisits: int
    first_fetched: datetime


@dataclass(frozen=True)
class FailedItem:
    """An item whose article was given up on, with the reason."""

    id: str  # short and stable: see item_key
    source: str
    item_id: str
    link: str | None
    title: str | None
    attempts: int
    last_error: str | None
    first_seen: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "link": self.link,
            "title": self.title,
            "attempts": self.attempts,
            "reason": self.last_error,
            "first_seen": self.first_seen.isoformat(),
        }


def item_key(source: str, item_id: str) -> str:
    """A short id for an item, the same on every database (items have no row number of
    their own: they are keyed by source and feed id)."""
    return hashlib.sha256(f"{source}\n{item_id}".encode()).hexdigest()[:10]


def _new_row_id(result: CursorResult[Any]) -> int:
    """The id of the one row an INSERT wrote (SQLAlchemy types the key as optional)."""
    key = result.inserted_primary_key
    assert key is not None, "a single-row INSERT always has its key"
    return int(key[0])


def decoded(table: str, row_id: object, data: str) -> Any | None:
    """A row's JSON column, or None when it is damaged: reported, with table and id, and
    skipped, so that one bad row never stops a command."""
    try:
        return json.loads(data)
    except (ValueError, TypeError) as exc:
        log.error(
            "state database: %s row %r is damaged and was skipped (%s)",
            table,
            row_id,
            " ".join(str(exc).split()),
        )
        return None


def _source_state(row: Any) -> SourceState:
    return SourceState(
        name=row["name"],
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        last_attempt=aware(row["last_attempt"]),
        last_success=aware(row["last_success"]),
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        last_new_item=aware(row["last_new_item"]),
        added_at=aware(row["added_at"]),
        health=row["health"],
        health_since=aware(row["health_since"]),
        feed_url=row["feed_url"],
    )


def _state_for(row: Any, name: str, url: str) -> SourceState:
    if row is None or row["url"] != url:
        return SourceState(name, url, None, None, None, None, None, None, 0)
    return _source_state(row)


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


class Store:
    """The state database. One per process; safe to share between passes.

    A SQLite file is remembered by device and inode when it is opened, and
    every transaction checks it again before committing: a file deleted or
    replaced under a running pass would otherwise take its writes (an
    unlinked file still accepts them), and the next run, on a new file,
    would send every alert again.

    ``read_only`` opens an existing SQLite file without writing to it or beside
    it (for ``watcher status`` and ``facts`` run by a user who may only read).
    """

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

    # -- sources -------------------------------------------------------------

    def source_state(self, name: str, url: str, *, conn: Connection | None = None) -> SourceState:
        """The remembered state of a source; validators are dropped if its URL changed."""
        query = select(sources).where(sources.c.name == name)
        if conn is not None:
            row = conn.execute(query).mappings().first()
        else:
            with self.engine.connect() as own:
                row = own.execute(query).mappings().first()
        return _state_for(row, name, url)

    def source_states(self, wanted: dict[str, str]) -> dict[str, SourceState]:
        """:meth:`source_state` for many sources (name to URL) in one query."""
        with self.engine.connect() as conn:
            return self.source_states_in(conn, wanted)

    def all_sources(self) -> list[SourceState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(sources).order_by(sources.c.name)).mappings().all()
        return [_source_state(row) for row in rows]

    @staticmethod
    def set_health(conn: Connection, name: str, health: str, *, since: datetime) -> None:
        conn.execute(
            update(sources).where(sources.c.name == name).values(health=health, health_since=since)
        )

    @staticmethod
    def record_source(
        conn: Connection,
        name: str,
        url: str,
        *,
        at: datetime,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        body_hash: str | None = None,
        new_items: bool = False,
        feed_url: str | None = None,
    ) -> None:
        """Remember a poll's outcome; a failure keeps the validators of the last success,
        and the feed found for a site."""
        values: dict[str, Any] = {"url": url, "last_attempt": at, "last_error": error}
        if error is None:
            values.update(
                etag=etag,
                last_modified=last_modified,
                body_hash=body_hash,
                last_success=at,
                consecutive_failures=0,
                feed_url=feed_url,
            )
            if new_items:
                values["last_new_item"] = at
        exists = conn.execute(select(sources.c.name).where(sources.c.name == name)).first()
        if exists:
            if error is not None:
                values["consecutive_failures"] = sources.c.consecutive_failures + 1
            conn.execute(update(sources).where(sources.c.name == name).values(**values))
        else:
            values.setdefault("consecutive_failures", 1 if error else 0)
            values["added_at"] = at
            conn.execute(insert(sources).values(name=name, **values))

    def record_successes(self, conn: Connection, polls: list[SourcePoll], *, at: datetime) -> None:
        """:meth:`record_source` for many successful polls that found no new item, as one
        statement run for each (a warm pass over hundreds of sources makes these)."""
        names = [poll.name for poll in polls]
        known: set[str] = set()
        for start in range(0, len(names), 500):
            query = select(sources.c.name).where(sources.c.name.in_(names[start : start + 500]))
            known.update(conn.execute(query).scalars())
        rows = [
            {
                "b_name": poll.name,
                "b_url": poll.url,
                "b_etag": poll.etag,
                "b_last_modified": poll.last_modified,
                "b_body_hash": poll.body_hash,
                "b_feed_url": poll.feed_url,
            }
            for poll in polls
            if poll.name in known
        ]
        if rows:
            conn.execute(
                update(sources)
                .where(sources.c.name == bindparam("b_name"))
                .values(
                    url=bindparam("b_url"),
                    etag=bindparam("b_etag"),
                    last_modified=bindparam("b_last_modified"),
                    body_hash=bindparam("b_body_hash"),
                    feed_url=bindparam("b_feed_url"),
                    last_attempt=at,
                    last_success=at,
                    last_error=None,
                    consecutive_failures=0,
                ),
                rows,
            )
        for poll in polls:
            if poll.name not in known:
                self.record_source(
                    conn,
                    poll.name,
                    poll.url,
                    at=at,
                    etag=poll.etag,
                    last_modified=poll.last_modified,
                    body_hash=poll.body_hash,
                    feed_url=poll.feed_url,
                )

    def source_states_in(self, conn: Connection, wanted: dict[str, str]) -> dict[str, SourceState]:
        """:meth:`source_states`, read in the transaction ``conn``."""
        names = list(wanted)
        rows: dict[str, Any] = {}
        for start in range(0, len(names), 500):
            query = select(sources).where(sources.c.name.in_(names[start : start + 500]))
            rows.update((row["name"], row) for row in conn.execute(query).mappings())
        return {name: _state_for(rows.get(name), name, url) for name, url in wanted.items()}

    # -- items ---------------------------------------------------------------

    def known_item_ids(
        self, source: str, item_ids: Iterable[str], *, conn: Connection | None = None
    ) -> set[str]:
        if conn is None:
            with self.engine.connect() as own:
                return self.known_item_ids(source, item_ids, conn=own)
        wanted = list(set(item_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                conn.execute(
                    select(items.c.item_id).where(
                        items.c.source == source, items.c.item_id.in_(chunk)
                    )
                ).scalars()
            )
        return found

    @staticmethod
    def add_items(
        conn: Connection,
        new_items: list[FeedItem],
        *,
        at: datetime,
        unrelated: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        """Remember new feed items; those in ``unrelated`` are never fetched."""
        if not new_items:
            return

        def state(item: FeedItem) -> ItemState:
            if item.item_id in unrelated:
                return ItemState.UNRELATED
            # An item without a link has no article to fetch.
            return ItemState.PENDING if item.link else ItemState.DONE

        conn.execute(
            insert(items),
            [
                {
                    "source": item.source,
                    "item_id": item.item_id,
                    "link": item.link,
                    "title": item.title,
                    "published": item.published,
                    "first_seen": at,
                    "state": state(item),
                    "attempts": 0,
                }
                for item in new_items
            ],
        )

    def sources_with_pending(
        self, names: list[str], max_attempts: int, revisits_due: datetime | None = None
    ) -> set[str]:
        """Which of these sources have items whose article is still to be fetched, or
        (given ``revisits_due``) articles due a revisit by then."""
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                query = (
                    select(items.c.source)
                    .where(
                        items.c.source.in_(chunk),
                        items.c.state == ItemState.PENDING,
                        items.c.attempts < max_attempts,
                    )
                    .distinct()
                )
                found.update(conn.execute(query).scalars())
                if revisits_due is not None:
                    query = (
                        select(articles.c.source)
                        .where(articles.c.source.in_(chunk), articles.c.revisit_at <= revisits_due)
                        .distinct()
                    )
                    found.update(conn.execute(query).scalars())
        return found

    def pending_items(self, source: str, max_attempts: int, limit: int) -> list[PendingItem]:
        """Items whose article is still to be fetched, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(items)
                .where(
                    items.c.source == source,
                    items.c.state == "pending",
                    items.c.attempts < max_attempts,
                )
                .order_by(items.c.first_seen, items.c.item_id)
                .limit(limit)
            ).mappings()
            return [
                PendingItem(
                    source=row["source"],
                    item_id=row["item_id"],
                    link=row["link"],
                    title=row["title"],
                    published=aware(row["published"]),
                    attempts=row["attempts"],
                )
                for row in rows
            ]

    @staticmethod
    def record_item_failure(
        conn: Connection, item: PendingItem, reason: str, *, max_attempts: int
    ) -> None:
        attempts = item.attempts + 1
        conn.execute(
            update(items)
            .where(items.c.source == item.source, items.c.item_id == item.item_id)
            .values(
                attempts=attempts,
                last_error=reason,
                state="failed" if attempts >= max_attempts else "pending",
            )
        )

    @staticmethod
    def save_article(
        conn: Connection,
        item: PendingItem | None,
        article: Article,
        *,
        at: datetime,
        etag: str | None = None,
        last_modified: str | None = None,
        revisit_at: datetime | None = None,
    ) -> int:
        """Store an article and mark its item done; returns the article's row id.

        ``etag`` and ``last_modified`` are the page's validators, for revisits from
        ``revisit_at`` on (None: never).
        """
        if item is not None:
            conn.execute(
                update(items)
                .where(items.c.source == item.source, items.c.item_id == item.item_id)
                .values(state="done", attempts=item.attempts + 1, last_error=None)
            )
        existing = conn.execute(select(articles.c.id).where(articles.c.url == article.url)).first()
        values: dict[str, Any] = {
            "url": article.url,
            "canonical_url": article.canonical_url,
            "source": article.source,
            "item_id": item.item_id if item else None,
            "title": article.title,
            "published": article.published,
            "text": article.text,
            "text_hash": text_hash(article.text),
            "fetched_at": at,
        }
        if existing:
            conn.execute(update(articles).where(articles.c.id == existing[0]).values(**values))
            return existing[0]
        values.update(
            etag=etag,
            last_modified=last_modified,
            first_fetched=at,
            revisits=0,
            revisit_at=revisit_at,
            revision=0,
        )
        return _new_row_id(conn.execute(insert(articles).values(**values)))

    def due_revisits(self, source: str, now: datetime, limit: int) -> list[DueRevisit]:
        """The source's articles due to be fetched again, longest due first."""
        if limit <= 0:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(articles)
                .where(articles.c.source == source, articles.c.revisit_at <= now)
                .order_by(articles.c.revisit_at, articles.c.id)
                .limit(limit)
            ).mappings()
            return [
                DueRevisit(
                    article_id=row["id"],
                    url=row["url"],
                    source=row["source"],
                    title=row["title"],
                    published=aware(row["published"]),
                    etag=row["etag"],
                    last_modified=row["last_modified"],
                    text_hash=row["text_hash"],
                    revision=row["revision"],
                    revisits=row["revisits"],
                    first_fetched=aware(row["first_fetched"] or row["fetched_at"]),
                )
                for row in rows
            ]

    @staticmethod
    def record_revisit(
        conn: Connection,
        revisit: DueRevisit,
        *,
        at: datetime,
        next_at: datetime | None,
        etag: str | None,
        last_modified: str | None,
        revised: Article | None = None,
    ) -> None:
        """A revisit's outcome: when the next one is due, and the changed text if there is
        one (stored as the article's next revision)."""
        values: dict[str, Any] = {
            "revisits": revisit.revisits + 1,
            "revisit_at": next_at,
            "etag": etag,
            "last_modified": last_modified,
        }
        if revised is not None:
            values.update(
                text=revised.text,
                text_hash=text_hash(revised.text),
                title=revised.title,
                canonical_url=revised.canonical_url,
                revision=revisit.revision + 1,
                fetched_at=at,
            )
        conn.execute(update(articles).where(articles.c.id == revisit.article_id).values(**values))

    def failed_items(self) -> list[FailedItem]:
        """Items whose article was given up on, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(items)
                .where(items.c.state == "failed")
                .order_by(items.c.first_seen.desc(), items.c.source, items.c.item_id)
            ).mappings()
            return [
                FailedItem(
                    id=item_key(row["source"], row["item_id"]),
                    source=row["source"],
                    item_id=row["item_id"],
                    link=row["link"],
                    title=row["title"],
                    attempts=row["attempts"],
                    last_error=row["last_error"],
                    first_seen=aware(row["first_seen"]),
                )
                for row in rows
            ]

    def retry_items(self, failed: list[FailedItem]) -> int:
        """Queue given-up items again, with their tries counted afresh; returns how many."""
        count = 0
        with self.transaction() as conn:
            for item in failed:
                count += conn.execute(
                    update(items)
                    .where(
                        items.c.source == item.source,
                        items.c.item_id == item.item_id,
                        items.c.state == "failed",
                    )
                    .values(state="pending", attempts=0)
                ).rowcount
        return count

    def article_hash_seen(self, digest: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    select(articles.c.id).where(articles.c.text_hash == digest).limit(1)
                ).first()
                is not None
            )

    def prune(self, before: datetime) -> dict[str, int]:
        """Delete article text and sent digest and health alerts older than ``before``.
        Items stay (they are how seen entries are skipped), and so do observations (what
        knowledge is folded from, a few hundred bytes each), facts, changes with their
        quotes, and change alerts (the first of each is a mail thread's root)."""
        with self.transaction() as conn:
            removed = {
                "articles": conn.execute(
                    delete(articles).where(articles.c.fetched_at < before)
                ).rowcount,
                "alerts": conn.execute(
                    delete(alerts).where(
                        alerts.c.state == "sent",
                        alerts.c.kind.in_(("digest", "health")),
                        alerts.c.created_at < before,
                    )
                ).rowcount,
            }
        return {table: count or 0 for table, count in removed.items()}

    def vacuum(self) -> None:
        """Give the space of pruned rows back to the file system (rewrites the file)."""
        if self.engine.dialect.name == "sqlite":
            # VACUUM cannot run inside a transaction: use the driver connection directly.
            raw = self.engine.raw_connection()
            try:
                driver = raw.driver_connection
                assert driver is not None, "a connection just checked out has its driver's"
                driver.execute("VACUUM")
            finally:
                raw.close()

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                "sources": conn.execute(select(func.count()).select_from(sources)).scalar_one(),
                "items": conn.execute(select(func.count()).select_from(items)).scalar_one(),
                "articles": conn.execute(select(func.count()).select_from(articles)).scalar_one(),
            }

    def items_per_source(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(items.c.source, func.count()).group_by(items.c.source)).all()
        return {source: count for source, count in rows}

    @staticmethod
    def add_to_counters(conn: Connection, amounts: dict[tuple[str, str], float]) -> None:
        """Add to running totals, by (name, labels as JSON); a total not seen yet starts at 0.

        One upsert run for every total (SQLite and PostgreSQL both have ON CONFLICT):
        a warm pass adds to a few hundred of them, each a round trip to a server.
        """
        if not amounts:
            return
        key = [counters.c.name, counters.c.labels]
        statement: Insert
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(counters)
            statement = pg.on_conflict_do_update(
                index_elements=key, set_={"value": counters.c.value + pg.excluded.value}
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite = sqlite_insert(counters)
            statement = lite.on_conflict_do_update(
                index_elements=key, set_={"value": counters.c.value + lite.excluded.value}
            )
        conn.execute(
            statement,
            [
                {"name": name, "labels": labels, "value": amount}
                for (name, labels), amount in amounts.items()
            ],
        )

    def read_counters(self) -> list[tuple[str, str, float]]:
        """Every running total as (name, labels as JSON, value)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(counters.c.name, counters.c.labels, counters.c.value).order_by(
                    counters.c.name, counters.c.labels
                )
            ).all()
        return [(name, labels, value) for name, labels, value in rows]

    def alert_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(alerts.c.state, func.count()).group_by(alerts.c.state)).all()
        return {state: count for state, count in rows}

    # -- knowledge, observations and changes, per story --------------------------

    def holds_legacy(self) -> bool:
        """Whether the database holds rows from before stories (see :meth:`adopt_legacy`)."""
        with self.engine.connect() as conn:
            return any(
                conn.execute(select(column).where(column == LEGACY_STORY).limit(1)).first()
                for column in (observations.c.story, knowledge.c.story, changes.c.story)
            )

    @staticmethod
    def adopt_legacy(conn: Connection, story: str) -> bool:
        """Give ``story`` what was stored before configs followed several stories.

        A database of one story is the first story's when a config with
        several first opens it. True if there was anything to adopt.
        """
        legacy = observations.c.story == LEGACY_STORY
        found = conn.execute(select(observations.c.id).where(legacy).limit(1)).first()
        found = (
            found
            or conn.execute(
                select(knowledge.c.key).where(knowledge.c.story == LEGACY_STORY).limit(1)
            ).first()
        )
        found = (
            found
            or conn.execute(
                select(changes.c.id).where(changes.c.story == LEGACY_STORY).limit(1)
            ).first()
        )
        if not found:
            return False
        conn.execute(update(observations).where(legacy).values(story=story))
        conn.execute(update(knowledge).where(knowledge.c.story == LEGACY_STORY).values(story=story))
        conn.execute(
            update(changes)
            .where(changes.c.story == LEGACY_STORY)
            .values(story=story, identity=story + changes.c.identity)
        )
        for key, value in conn.execute(
            select(meta.c.key, meta.c.value).where(meta.c.key.like("fold:%"))
        ).all():
            if key.count(":") == 1:  # fold:KEY, from before stories: fold:STORY:KEY now
                conn.execute(delete(meta).where(meta.c.key == key))
                Store.put_meta(conn, f"fold:{story}:{key.removeprefix('fold:')}", value)
        conn.execute(delete(meta).where(meta.c.key == "baseline"))
        return True

    @staticmethod
    def add_observations(
        conn: Connection,
        article_id: int | None,
        story: str,
        rows: list[dict[str, Any]],
        *,
        at: datetime,
    ) -> None:
        if rows:
            conn.execute(
                insert(observations),
                [
                    {
                        "article_id": article_id,
                        "story": story,
                        "key": row["key"],
                        "data": json.dumps(row),
                        "created_at": at,
                    }
                    for row in rows
                ],
            )

    @staticmethod
    def observations_of(conn: Connection, story: str, key: str) -> list[dict[str, Any]]:
        """Every stored observation of one fact of a story, in the order they were stored."""
        rows = conn.execute(
            select(observations.c.id, observations.c.data)
            .where(observations.c.story == story, observations.c.key == key)
            .order_by(observations.c.id)
        ).all()
        found = (decoded("observations", row_id, data) for row_id, data in rows)
        return [data for data in found if data is not None]

    @staticmethod
    def read_knowledge(conn: Connection, story: str) -> dict[str, dict[str, Any]]:
        rows = conn.execute(
            select(knowledge.c.key, knowledge.c.data).where(knowledge.c.story == story)
        ).all()
        found = {key: decoded("knowledge", key, data) for key, data in rows}
        return {key: data for key, data in found.items() if data is not None}

    def load_knowledge(self, story: str) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            return self.read_knowledge(conn, story)

    @staticmethod
    def save_knowledge(
        conn: Connection, story: str, facts: dict[str, dict[str, Any]], *, at: datetime
    ) -> None:
        for key, data in facts.items():
            payload = json.dumps(data, sort_keys=True)
            where = (knowledge.c.story == story, knowledge.c.key == key)
            if conn.execute(select(knowledge.c.key).where(*where)).first():
                conn.execute(update(knowledge).where(*where).values(data=payload, updated_at=at))
            else:
                conn.execute(
                    insert(knowledge).values(story=story, key=key, data=payload, updated_at=at)
                )

    @staticmethod
    def forget_knowledge(conn: Connection, story: str, keys: Iterable[str]) -> None:
        conn.execute(
            delete(knowledge).where(knowledge.c.story == story, knowledge.c.key.in_(list(keys)))
        )

    @staticmethod
    def upsert_change(
        conn: Connection,
        story: str,
        identity: str,
        key: str,
        status: str,
        data: dict[str, Any],
        *,
        at: datetime,
    ) -> tuple[int, datetime]:
        """Insert or update a story's change by identity; returns its id and when it was
        first seen."""
        payload = json.dumps(data, sort_keys=True)
        row = conn.execute(
            select(changes.c.id, changes.c.first_seen).where(
                changes.c.identity == change_identity(story, identity)
            )
        ).first()
        if row:
            conn.execute(
                update(changes)
                .where(changes.c.id == row[0])
                .values(status=status, data=payload, updated_at=at)
            )
            return row[0], aware(row[1])
        new_id = _new_row_id(
            conn.execute(
                insert(changes).values(
                    story=story,
                    identity=change_identity(story, identity),
                    key=key,
                    status=status,
                    data=payload,
                    first_seen=at,
                    updated_at=at,
                )
            )
        )
        return new_id, at

    @staticmethod
    def changes_of(conn: Connection, story: str, keys: Iterable[str]) -> list[StoredChange]:
        """The stored changes of these facts of a story, superseded and rejected ones
        included."""
        rows = conn.execute(
            select(changes.c.id, changes.c.key, changes.c.status, changes.c.data)
            .where(changes.c.story == story, changes.c.key.in_(list(keys)))
            .order_by(changes.c.id)
        ).all()
        found = []
        for row_id, key, status, data in rows:
            stored = decoded("changes", row_id, data) or {}
            new = stored.get("new") or {}
            found.append(
                StoredChange(
                    row_id,
                    stored.get("identity", ""),
                    key,
                    ChangeStatus(status),
                    len(stored.get("evidence", [])),
                    (new["value"], new.get("qualifier")) if "value" in new else None,
                )
            )
        return found

    @staticmethod
    def supersede_changes(conn: Connection, ids: Iterable[int], *, at: datetime) -> None:
        conn.execute(
            update(changes)
            .where(changes.c.id.in_(list(ids)), changes.c.status != ChangeStatus.REJECTED)
            .values(status=ChangeStatus.SUPERSEDED, updated_at=at)
        )

    @staticmethod
    def set_change_state(
        conn: Connection, change_id: int, status: ChangeStatus, identity: str, *, at: datetime
    ) -> None:
        """Mark a change rejected (its identity set aside, so that the same news from
        other articles is a change of its own) or, undoing that, back as it was."""
        conn.execute(
            update(changes)
            .where(changes.c.id == change_id)
            .values(status=status, identity=identity, updated_at=at)
        )

    @staticmethod
    def identity_taken(conn: Connection, identity: str) -> bool:
        return (
            conn.execute(select(changes.c.id).where(changes.c.identity == identity)).first()
            is not None
        )

    def list_changes(
        self,
        *,
        story: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        rejected: bool = True,
        change_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Changes, oldest first, superseded ones left out (and rejected ones, unless
        ``rejected``); ``since`` and ``until`` bound their last update."""
        left_out = [ChangeStatus.SUPERSEDED] + ([] if rejected else [ChangeStatus.REJECTED])
        query = (
            select(changes)
            .where(changes.c.status.not_in(left_out))
            .order_by(changes.c.first_seen, changes.c.id)
        )
        if story is not None:
            query = query.where(changes.c.story == story)
        if change_id is not None:
            query = query.where(changes.c.id == change_id)
        if since is not None:
            query = query.where(changes.c.updated_at >= since)
        if until is not None:
            query = query.where(changes.c.updated_at < until)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            {
                **data,
                "id": row["id"],
                "story": row["story"],
                "key": row["key"],
                # The row's: a rejected change's data still says how it was reported.
                "status": row["status"],
                "first_seen": aware(row["first_seen"]).isoformat(),
                "updated_at": aware(row["updated_at"]).isoformat(),
            }
            for row in rows
            if (data := decoded("changes", row["id"], row["data"])) is not None
        ]

    # -- corrections ---------------------------------------------------------------

    @staticmethod
    def add_correction(
        conn: Connection,
        *,
        story: str,
        kind: CorrectionKind,
        key: str,
        data: dict[str, Any],
        by: str,
        at: datetime,
        why: str | None = None,
        change_id: int | None = None,
    ) -> int:
        return _new_row_id(
            conn.execute(
                insert(corrections).values(
                    story=story,
                    kind=kind,
                    key=key,
                    change_id=change_id,
                    data=json.dumps(data, sort_keys=True),
                    why=why,
                    by=by,
                    created_at=at,
                )
            )
        )

    @staticmethod
    def undo_correction(conn: Connection, correction_id: int, *, by: str, at: datetime) -> None:
        conn.execute(
            update(corrections)
            .where(corrections.c.id == correction_id)
            .values(undone_at=at, undone_by=by)
        )

    @staticmethod
    def read_corrections(
        conn: Connection,
        *,
        story: str | None = None,
        active: bool = False,
        correction_id: int | None = None,
    ) -> list[StoredCorrection]:
        """Corrections in the order they were made; ``active``: those not undone."""
        query = select(corrections).order_by(corrections.c.id)
        if story is not None:
            query = query.where(corrections.c.story == story)
        if active:
            query = query.where(corrections.c.undone_at.is_(None))
        if correction_id is not None:
            query = query.where(corrections.c.id == correction_id)
        found = []
        for row in conn.execute(query).mappings():
            data = decoded("corrections", row["id"], row["data"])
            if data is None:
                continue
            found.append(
                StoredCorrection(
                    id=row["id"],
                    story=row["story"],
                    kind=CorrectionKind(row["kind"]),
                    key=row["key"],
                    change_id=row["change_id"],
                    data=data,
                    why=row["why"],
                    by=row["by"],
                    created_at=aware(row["created_at"]),
                    undone_at=aware(row["undone_at"]),
                    undone_by=row["undone_by"],
                )
            )
        return found

    def corrections(
        self, *, story: str | None = None, active: bool = False
    ) -> list[StoredCorrection]:
        with self.engine.connect() as conn:
            return self.read_corrections(conn, story=story, active=active)


def change_identity(story: str, identity: str) -> str:
    """A change's identity in the database: its story's name, then what changed."""
    return f"{story}|{identity}"


def open_store(url: str, *, read_only: bool = False, upgrade: bool | None = None) -> Store:
    """The state database at ``url``; read-only, a missing SQLite file (or a server's
    database watcher has not used yet) reads as empty. ``upgrade``: see Store._migrate."""
    path = sqlite_path(url)
    if read_only and path is not None and not path.exists():
        return Store("sqlite://")
    try:
        return Store(url, read_only=read_only, upgrade=upgrade)
    except _NothingYet:
        return Store("sqlite://")
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        detail = " ".join(str(cause).split())
        raise StoreError(f"{display_url(url)}: cannot open state database: {detail}") from None
