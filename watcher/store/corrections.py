"""Corrections: what a person (or the config) said about a story's facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from watcher.store.database import Database
from watcher.store.schema import CorrectionKind, corrections
from watcher.store.values import aware, decode_data, encode_data, new_row_id


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


class Corrections(Database):
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
        return new_row_id(
            conn.execute(
                insert(corrections).values(
                    story=story,
                    kind=kind,
                    key=key,
                    change_id=change_id,
                    data=encode_data(data, sort_keys=True),
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
            data = decode_data("corrections", row["id"], row["data"])
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
