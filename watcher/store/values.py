"""Small helpers for what goes in and out of rows: times, hashes, ids, JSON."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import CursorResult

log = logging.getLogger("watcher.store")


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


def new_row_id(result: CursorResult[Any]) -> int:
    """The id of the one row an INSERT wrote (SQLAlchemy types the key as optional)."""
    key = result.inserted_primary_key
    assert key is not None, "a single-row INSERT always has its key"
    return int(key[0])


def skipped(table: str, row_id: object, problem: str) -> None:
    """Report a row that cannot be read, with its table and id, in one line."""
    log.error("state database: %s row %r %s and was skipped", table, row_id, problem)


def decoded(table: str, row_id: object, data: str) -> Any | None:
    """A row's JSON column, or None when it is damaged: reported, with table and id, and
    skipped, so that one bad row never stops a command."""
    try:
        return json.loads(data)
    except (ValueError, TypeError) as exc:
        skipped(table, row_id, f"is damaged ({' '.join(str(exc).split())})")
        return None


# The version of the JSON kept in the data columns of observations, knowledge, changes
# and corrections and in alerts.payload: written as {"v": 1, ...}. Rows written before
# versions have no "v" and read as version 1.
DATA_VERSION = 1


def encode_data(data: dict[str, Any], *, sort_keys: bool = False) -> str:
    """A data column's JSON, with its version."""
    assert "v" not in data, "v is the version's key"
    return json.dumps({"v": DATA_VERSION, **data}, sort_keys=sort_keys)


def decode_data(table: str, row_id: object, data: str) -> Any | None:
    """A data column written by :func:`encode_data` (or before versions), without its
    version; None, reported as :func:`decoded` reports a damaged row, when it is damaged
    or of a version this watcher does not know (a newer watcher wrote it)."""
    found = decoded(table, row_id, data)
    if not isinstance(found, dict):
        return found
    version = found.pop("v", DATA_VERSION)
    if version != DATA_VERSION or isinstance(version, bool):
        skipped(table, row_id, f"holds data of version {version!r}, unknown to this watcher,")
        return None
    return found


def change_identity(story: str, identity: str) -> str:
    """A change's identity in the database: its story's name, then what changed."""
    return f"{story}|{identity}"
