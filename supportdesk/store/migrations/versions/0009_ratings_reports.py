"""Satisfaction by reply and the daily report.

`rating`: a customer's answer to "How did we do?" (a score 1-5, good/bad, optionally
politeness and proficiency, and a comment), for a request and the agent who answered it;
the message that carried it is kept like any other.

`daily_report`: one row per day the morning report was claimed, so that it is mailed once
whichever process holds the poller lease.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from supportdesk.store.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rating",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("request.id"), nullable=False),
        sa.Column("message_pk", sa.Integer(), sa.ForeignKey("message.id"), nullable=True),
        sa.Column("agent_login", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("good", sa.Boolean(), nullable=False),
        sa.Column("politeness", sa.Integer(), nullable=True),
        sa.Column("proficiency", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("message_pk", name="ux_rating_message"),
    )
    op.create_index("ix_rating_request", "rating", ["request_id"])
    op.create_index("ix_rating_at", "rating", ["at"])
    op.create_index("ix_rating_agent", "rating", ["agent_login", "at"])
    op.create_table(
        "daily_report",
        sa.Column("day", sa.String(length=10), primary_key=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("daily_report")
    op.drop_index("ix_rating_agent", table_name="rating")
    op.drop_index("ix_rating_at", table_name="rating")
    op.drop_index("ix_rating_request", table_name="rating")
    op.drop_table("rating")
