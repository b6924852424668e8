"""Drafts: the answer an agent is writing, kept until it is sent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import supportdesk.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("agent_login", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("template_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("updated_at", supportdesk.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "agent_login"),
    )


def downgrade() -> None:
    op.drop_table("draft")
