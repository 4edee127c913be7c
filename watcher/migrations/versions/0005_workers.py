"""Schema 5: several workers on one database: the polling schedule with its leases,
the workers and their heartbeats, and each host's next turn.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("source", sa.String, primary_key=True),
        sa.Column("interval", sa.Float, nullable=False),
        sa.Column("turn_at", WHEN, nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("worker", sa.String),
        sa.Column("lease_until", WHEN),
        sa.Column("claims", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_worker", sa.String),
        sa.Column("last_polled", WHEN),
    )
    op.create_index("ix_schedule_due_at", "schedule", ["due_at"])
    op.create_index("ix_schedule_worker", "schedule", ["worker"])
    op.create_table(
        "workers",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("host", sa.String, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("heartbeat_at", WHEN, nullable=False),
        sa.Column("stopped_at", WHEN),
        sa.Column("lease_seconds", sa.Float, nullable=False),
        sa.Column("info", sa.Text, nullable=False),
    )
    op.create_table(
        "host_turns",
        sa.Column("host", sa.String, primary_key=True),
        sa.Column("next_at", WHEN, nullable=False),
    )
