"""Schema 3: several stories, and corrections.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Observations, knowledge and changes say which story they belong to. Rows from
before are marked with the empty story until a config's first story adopts them.
Knowledge is keyed by story and fact (two stories may track the same key), so its
table is copied into the new shape; a change's identity starts with its story.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    for table in ("observations", "changes"):
        op.add_column(table, sa.Column("story", sa.String, nullable=False, server_default=""))
    op.execute("UPDATE changes SET identity = '|' || identity")
    op.create_index("ix_changes_story_key", "changes", ["story", "key"])
    op.create_table(
        "knowledge_v3",
        sa.Column("story", sa.String, primary_key=True),
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.execute(
        "INSERT INTO knowledge_v3 (story, key, data, updated_at) "
        "SELECT '', key, data, updated_at FROM knowledge"
    )
    op.drop_table("knowledge")
    op.rename_table("knowledge_v3", "knowledge")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE knowledge RENAME CONSTRAINT knowledge_v3_pkey TO knowledge_pkey")
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("story", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("change_id", sa.Integer, sa.ForeignKey("changes.id")),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("why", sa.Text),
        sa.Column("by", sa.String, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("undone_at", WHEN),
        sa.Column("undone_by", sa.String),
    )
    op.create_index("ix_corrections_story", "corrections", ["story", "key"])
