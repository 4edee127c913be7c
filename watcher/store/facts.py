"""A story's facts: observations, current knowledge and changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from watcher.models import ChangeStatus
from watcher.store.database import Database
from watcher.store.schema import LEGACY_STORY, changes, knowledge, meta, observations
from watcher.store.values import aware, change_identity, decode_data, encode_data, new_row_id


@dataclass(frozen=True)
class StoredChange:
    """A change row, as the fold needs it to tell what a pass did to it."""

    id: int
    identity: str
    key: str
    status: ChangeStatus
    evidence: int  # how many pieces of evidence it has
    new: tuple[Any, str | None] | None  # the value and qualifier it changed to


class Facts(Database):
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
                Database.put_meta(conn, f"fold:{story}:{key.removeprefix('fold:')}", value)
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
                        "data": encode_data(row),
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
        found = (decode_data("observations", row_id, data) for row_id, data in rows)
        return [data for data in found if data is not None]

    @staticmethod
    def read_knowledge(conn: Connection, story: str) -> dict[str, dict[str, Any]]:
        rows = conn.execute(
            select(knowledge.c.key, knowledge.c.data).where(knowledge.c.story == story)
        ).all()
        found = {key: decode_data("knowledge", key, data) for key, data in rows}
        return {key: data for key, data in found.items() if data is not None}

    def load_knowledge(self, story: str) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            return self.read_knowledge(conn, story)

    @staticmethod
    def save_knowledge(
        conn: Connection, story: str, facts: dict[str, dict[str, Any]], *, at: datetime
    ) -> None:
        for key, data in facts.items():
            payload = encode_data(data, sort_keys=True)
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
        status: ChangeStatus,
        data: dict[str, Any],
        *,
        at: datetime,
    ) -> tuple[int, datetime]:
        """Insert or update a story's change by identity; returns its id and when it was
        first seen."""
        payload = encode_data(data, sort_keys=True)
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
        new_id = new_row_id(
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
            stored = decode_data("changes", row_id, data) or {}
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
            if (data := decode_data("changes", row["id"], row["data"])) is not None
        ]
