"""Trainees, mentors and reviews.

`agent.trainee` and `agent.mentor`: a trainee's answers wait for a mentor (or an admin)
before they go out. `review`: one letter a trainee wrote, in exactly one state (pending,
returned, approved: then `message_id` names the queued message). `quality_check`: a sampled
answer of an agent who is not a trainee, scored 1-5 by a reviewer with the rule it broke.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-28 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from supportdesk.store.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "agent", sa.Column("trainee", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("agent", sa.Column("mentor", sa.String(64), nullable=True))
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("request.id"), nullable=False),
        sa.Column("agent_login", sa.String(64), nullable=False),
        sa.Column("mentor_login", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("cc", sa.Text(), nullable=True),
        sa.Column("template_name", sa.String(100), nullable=True),
        sa.Column("template_language", sa.String(16), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("final_body", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(998), nullable=True),
    )
    op.create_index("ix_review_state", "review", ["state", "created_at"])
    op.create_index("ix_review_request", "review", ["request_id", "agent_login"])
    op.create_index("ix_review_agent", "review", ["agent_login", "created_at"])
    op.create_index(
        "ux_review_idempotency", "review", ["request_id", "idempotency_key"], unique=True
    )
    op.create_table(
        "quality_check",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("request.id"), nullable=False),
        sa.Column("message_pk", sa.Integer(), sa.ForeignKey("message.id"), nullable=False),
        sa.Column("agent_login", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("rule", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(64), nullable=True),
        sa.Column("scored_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("message_pk", name="ux_quality_check_message"),
    )
    op.create_index("ix_quality_check_state", "quality_check", ["state", "created_at"])
    op.create_index("ix_quality_check_agent", "quality_check", ["agent_login", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_quality_check_agent", table_name="quality_check")
    op.drop_index("ix_quality_check_state", table_name="quality_check")
    op.drop_table("quality_check")
    op.drop_index("ux_review_idempotency", table_name="review")
    op.drop_index("ix_review_agent", table_name="review")
    op.drop_index("ix_review_request", table_name="review")
    op.drop_index("ix_review_state", table_name="review")
    op.drop_table("review")
    op.drop_column("agent", "mentor")
    op.drop_column("agent", "trainee")
