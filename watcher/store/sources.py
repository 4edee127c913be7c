"""Sources: what each poll left (validators, errors, when), and their health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from watcher.models import SourceHealth
from watcher.store.database import Database
from watcher.store.schema import sources
from watcher.store.values import aware


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
    health: SourceHealth = SourceHealth.OK
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
        health=SourceHealth(row["health"]),
        health_since=aware(row["health_since"]),
        feed_url=row["feed_url"],
    )


def _state_for(row: Any, name: str, url: str) -> SourceState:
    if row is None or row["url"] != url:
        return SourceState(name, url, None, None, None, None, None, None, 0)
    return _source_state(row)


class Sources(Database):
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
    def set_health(conn: Connection, name: str, health: SourceHealth, *, since: datetime) -> None:
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
