"""Schema 6: how many parts of a split message were delivered, in a column of its own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

A Slack digest too long for one message is sent in parts, and a retry starts
after the parts already delivered. That count was kept in ``alerts.message_id``
as "parts-delivered:N" until the alert was sent, so the column held either a
Message-ID or a counter; the counter has its own integer column now, and
``message_id`` only ever holds a Message-ID. Downgrading writes it back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PREFIX = "parts-delivered:"
alerts = sa.table(
    "alerts",
    sa.column("id", sa.Integer),
    sa.column("message_id", sa.String),
    sa.column("parts_delivered", sa.Integer),
)


def upgrade() -> None:
    op.add_column(
        "alerts", sa.Column("parts_delivered", sa.Integer, nullable=False, server_default="0")
    )
    conn = op.get_bind()
    marked = conn.execute(
        sa.select(alerts.c.id, alerts.c.message_id).where(alerts.c.message_id.like(f"{PREFIX}%"))
    ).all()
    for row_id, marker in marked:
        count = marker.removeprefix(PREFIX)
        conn.execute(
            sa.update(alerts)
            .where(alerts.c.id == row_id)
            .values(message_id=None, parts_delivered=int(count) if count.isdigit() else 0)
        )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.update(alerts)
        .where(alerts.c.parts_delivered > 0, alerts.c.message_id.is_(None))
        .values(message_id=sa.literal(PREFIX) + sa.cast(alerts.c.parts_delivered, sa.String))
    )
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("parts_delivered")
