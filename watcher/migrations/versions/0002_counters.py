"""Schema 2: running totals for the metrics.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("labels", sa.String, primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
    )
