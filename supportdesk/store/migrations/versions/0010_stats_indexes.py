"""Stats for a year in under a second: covering indexes for the figures, and the agent of a
request's first answer kept as a fact.

`request.first_response_by`: the agent whose answer was the first (set with
first_response_at); backfilled from the answer events (reply or reminder by an agent at the
moment of the first answer), as the figures found it before. `first_response_seconds`: the
wait for it, from created_at (SQLite parsing two dates per request was a third of the time).

The indexes hold every column the figures read, so a window of time is an index range and
no table row (a message row carries its text) is read.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-28 09:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "request",
        sa.Column("first_response_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.add_column("request", sa.Column("first_response_seconds", sa.Float(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        waited = "(julianday(first_response_at) - julianday(created_at)) * 86400.0"
    else:
        waited = "CAST(EXTRACT(EPOCH FROM first_response_at - created_at) AS FLOAT)"
    op.execute(
        f"UPDATE request SET first_response_seconds = {waited} WHERE first_response_at IS NOT NULL"
    )
    op.execute(
        """
        UPDATE request SET first_response_by = (
            SELECT event.actor FROM event
            WHERE event.request_id = request.id
              AND event.at = request.first_response_at
              AND event.kind IN ('reply', 'reminder')
              AND event.actor != 'system'
            ORDER BY event.id
            LIMIT 1
        )
        WHERE first_response_at IS NOT NULL
        """
    )
    op.create_index("ix_event_stats", "event", ["kind", "reason", "at", "actor", "request_id"])
    op.create_index(
        "ix_message_stats", "message", ["direction", "received_at", "automatic", "request_id"]
    )
    op.create_index(
        "ix_request_stats",
        "request",
        [
            "created_at",
            "close_reason",
            "first_response_at",
            "first_response_seconds",
            "sla_due_at",
            "closed_at",
            "language",
            "first_response_by",
        ],
    )

    op.create_index(
        "ix_rating_stats",
        "rating",
        ["at", "good", "politeness", "proficiency", "agent_login", "request_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_rating_stats", table_name="rating")
    op.drop_index("ix_request_stats", table_name="request")
    op.drop_index("ix_message_stats", table_name="message")
    op.drop_index("ix_event_stats", table_name="event")
    # a plain DROP COLUMN (SQLite 3.35+): no copy of the request table
    op.drop_column("request", "first_response_seconds")
    op.drop_column("request", "first_response_by")
