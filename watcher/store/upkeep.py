"""Pruning, the file's space, row counts and the running totals for the metrics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Insert, delete, func, select

from watcher.models import AlertKind, AlertState
from watcher.store.database import Database
from watcher.store.schema import alerts, articles, counters, items, sources


class Upkeep(Database):
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
                        alerts.c.state == AlertState.SENT,
                        alerts.c.kind.in_((AlertKind.DIGEST, AlertKind.HEALTH)),
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
