"""Schema 4: the feed found on a site's page, and article revisits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Sources remember the feed a site's page named; articles keep their page's
validators for a conditional GET, when they were first fetched, how often and
when next they are fetched again, and which version of their text is stored.
Articles stored before keep their first fetch and are never revisited.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("sources", sa.Column("feed_url", sa.String))
    for column in (
        sa.Column("etag", sa.String),
        sa.Column("last_modified", sa.String),
        sa.Column("first_fetched", WHEN),
        sa.Column("revisits", sa.Integer, nullable=False, server_default="0"),
        sa.Column("revisit_at", WHEN),
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    ):
        op.add_column("articles", column)
    op.execute("UPDATE articles SET first_fetched = fetched_at WHERE first_fetched IS NULL")
    op.create_index("ix_articles_revisit_at", "articles", ["revisit_at"])
