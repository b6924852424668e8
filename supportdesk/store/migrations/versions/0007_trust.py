"""Mail that cannot be trusted: how each message joined its request, the request a stranger's
message mentions, the log of acknowledgements by the address they went to, and the texts
seen lately (a repeat joins its request).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import supportdesk.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a big desk should not copy its request and message tables.
    op.add_column("request", sa.Column("mentions", sa.Integer(), nullable=True))
    op.add_column(
        "message",
        sa.Column("joined_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    )
    op.create_table(
        "ack_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("at", supportdesk.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ack_log_address", "ack_log", ["address", "at"], unique=False)
    op.create_table(
        "text_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("text_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", supportdesk.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_text_seen_key", "text_seen", ["sender", "text_key"], unique=False)
    op.create_index("ix_text_seen_at", "text_seen", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_text_seen_at", table_name="text_seen")
    op.drop_index("ix_text_seen_key", table_name="text_seen")
    op.drop_table("text_seen")
    op.drop_index("ix_ack_log_address", table_name="ack_log")
    op.drop_table("ack_log")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("joined_by")
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.drop_column("mentions")
