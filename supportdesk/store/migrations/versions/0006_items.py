"""Bugs, ideas and stories: the item table, and the item a request is linked to.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 15:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import supportdesk.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", supportdesk.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", supportdesk.store.types.UTCDateTime(), nullable=False),
        sa.Column("fixed_at", supportdesk.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_item_status", "item", ["status", "kind"], unique=False)
    # A plain ADD COLUMN with its REFERENCES clause: SQLite cannot rebuild the request table
    # (other tables point at it), and a big desk should not copy it anyway.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE request ADD COLUMN item_id INTEGER REFERENCES item (id)")
    else:
        op.add_column(
            "request", sa.Column("item_id", sa.Integer(), sa.ForeignKey("item.id"), nullable=True)
        )
    op.create_index("ix_request_item_id", "request", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_request_item_id", table_name="request")
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.drop_column("item_id")
    op.drop_index("ix_item_status", table_name="item")
    op.drop_table("item")
