"""Feed items and the articles fetched for them, with their revisits."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from watcher.models import Article, FeedItem
from watcher.store.database import Database
from watcher.store.schema import ItemState, articles, items
from watcher.store.values import aware, new_row_id, text_hash


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


class Items(Database):
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
                    items.c.state == ItemState.PENDING,
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
                state=ItemState.FAILED if attempts >= max_attempts else ItemState.PENDING,
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
                .values(state=ItemState.DONE, attempts=item.attempts + 1, last_error=None)
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
        return new_row_id(conn.execute(insert(articles).values(**values)))

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
                .where(items.c.state == ItemState.FAILED)
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
                        items.c.state == ItemState.FAILED,
                    )
                    .values(state=ItemState.PENDING, attempts=0)
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
