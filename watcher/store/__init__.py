"""State in a real database, through SQLAlchemy Core.

SQLite by default (WAL, a busy timeout, so a second process can read while
the daemon writes); PostgreSQL for several workers. The modules hold:

    schema       the tables, their states (ItemState, CorrectionKind), SCHEMA_VERSION
    values       times, hashes, row ids and the JSON kept in columns
    database     opening the database, its schema version, transactions, meta
    sources      each source's last poll and health
    items        feed items and the articles fetched for them, revisits
    facts        observations, current knowledge and changes, per story
    corrections  what a person (or the config) said about a story's facts
    upkeep       pruning, vacuum, row counts, the metrics' running totals

``Store`` is all of them over one database; the names below are what the
rest of watcher uses.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from watcher.store.corrections import Corrections, StoredCorrection
from watcher.store.database import (
    Database,
    StoreError,
    StoreGone,
    StoreUnavailable,
    _NothingYet,
    display_url,
    sqlite_path,
)
from watcher.store.facts import Facts, StoredChange
from watcher.store.items import DueRevisit, FailedItem, Items, PendingItem, item_key
from watcher.store.schema import (
    LEGACY_STORY,
    SCHEMA_VERSION,
    CorrectionKind,
    ItemState,
    alerts,
    articles,
    changes,
    corrections,
    counters,
    host_turns,
    items,
    knowledge,
    meta,
    metadata,
    observations,
    schedule,
    sources,
    workers,
)
from watcher.store.sources import SourcePoll, Sources, SourceState
from watcher.store.upkeep import Upkeep
from watcher.store.values import (
    DATA_VERSION,
    aware,
    change_identity,
    db_clock,
    decode_data,
    decoded,
    encode_data,
    text_hash,
    utcnow,
)

__all__ = [
    "DATA_VERSION",
    "LEGACY_STORY",
    "SCHEMA_VERSION",
    "CorrectionKind",
    "DueRevisit",
    "FailedItem",
    "ItemState",
    "PendingItem",
    "SourcePoll",
    "SourceState",
    "Store",
    "StoreError",
    "StoreGone",
    "StoreUnavailable",
    "StoredChange",
    "StoredCorrection",
    "alerts",
    "articles",
    "aware",
    "change_identity",
    "changes",
    "corrections",
    "counters",
    "db_clock",
    "decode_data",
    "decoded",
    "display_url",
    "encode_data",
    "host_turns",
    "item_key",
    "items",
    "knowledge",
    "meta",
    "metadata",
    "observations",
    "open_store",
    "schedule",
    "sources",
    "sqlite_path",
    "text_hash",
    "utcnow",
    "workers",
]


class Store(Sources, Items, Facts, Corrections, Upkeep, Database):
    """The state database. One per process; safe to share between passes.

    A SQLite file is remembered by device and inode when it is opened, and
    every transaction checks it again before committing: a file deleted or
    replaced under a running pass would otherwise take its writes (an
    unlinked file still accepts them), and the next run, on a new file,
    would send every alert again.

    ``read_only`` opens an existing SQLite file without writing to it or beside
    it (for ``watcher status`` and ``facts`` run by a user who may only read).
    """


def open_store(url: str, *, read_only: bool = False, upgrade: bool | None = None) -> Store:
    """The state database at ``url``; read-only, a missing SQLite file (or a server's
    database watcher has not used yet) reads as empty. ``upgrade``: see Database._migrate."""
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
