"""Templates (system, team, personal) and the record of their use.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import supportdesk.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", supportdesk.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", supportdesk.store.types.UTCDateTime(), nullable=False),
        sa.Column("use_count", sa.Integer(), nullable=False),
        sa.Column("last_used_at", supportdesk.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "owner", "name", "language"),
    )
    op.create_index(op.f("ix_template_name"), "template", ["name"], unique=False)
    op.create_table(
        "template_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("agent_login", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", supportdesk.store.types.UTCDateTime(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_template_use_agent", "template_use", ["agent_login", "at"], unique=False)
    op.create_index(
        op.f("ix_template_use_request_id"), "template_use", ["request_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_template_use_request_id"), table_name="template_use")
    op.drop_index("ix_template_use_agent", table_name="template_use")
    op.drop_table("template_use")
    op.drop_index(op.f("ix_template_name"), table_name="template")
    op.drop_table("template")
