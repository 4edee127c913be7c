"""Schema 1: sources, items, articles, observations, knowledge, changes, the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Frozen: the tables as watcher made them at schema 1, written out here rather than
taken from watcher.store, whose tables have moved on since.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.String, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("url", sa.String, nullable=False),
        sa.Column("added_at", WHEN),
        sa.Column("etag", sa.String),
        sa.Column("last_modified", sa.String),
        sa.Column("body_hash", sa.String),
        sa.Column("last_attempt", WHEN),
        sa.Column("last_success", WHEN),
        sa.Column("last_new_item", WHEN),
        sa.Column("last_error", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("health", sa.String, nullable=False),
        sa.Column("health_since", WHEN),
    )
    op.create_table(
        "items",
        sa.Column("source", sa.String, primary_key=True),
        sa.Column("item_id", sa.String, primary_key=True),
        sa.Column("link", sa.String),
        sa.Column("title", sa.String),
        sa.Column("published", WHEN),
        sa.Column("first_seen", WHEN, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_items_state", "items", ["source", "state"])
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.String, nullable=False, unique=True),
        sa.Column("canonical_url", sa.String),
        sa.Column("source", sa.String),
        sa.Column("item_id", sa.String),
        sa.Column("title", sa.String),
        sa.Column("published", WHEN),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_hash", sa.String, nullable=False),
        sa.Column("fetched_at", WHEN, nullable=False),
    )
    op.create_index("ix_articles_text_hash", "articles", ["text_hash"])
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="SET NULL")),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index("ix_observations_key", "observations", ["key"])
    op.create_table(
        "knowledge",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("identity", sa.String, nullable=False, unique=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("first_seen", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index("ix_changes_key", "changes", ["key"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("change_id", sa.Integer, sa.ForeignKey("changes.id")),
        sa.Column("subject_key", sa.String, nullable=False),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("idempotency_key", sa.String, nullable=False, unique=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt", WHEN, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("message_id", sa.String),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN),
    )
    op.create_index("ix_alerts_state", "alerts", ["state", "next_attempt"])
