"""A reply's idempotency key: the same `requests reply --idempotency-key KEY` run twice (a
script's retry) sends one mail. Unique per request, so two runs at the same moment on
PostgreSQL cannot both insert.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable, no default): a big desk does not copy its message table.
    op.add_column(
        "message",
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    )
    op.create_index(
        "ux_message_idempotency",
        "message",
        ["request_id", "idempotency_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_message_idempotency", table_name="message")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("idempotency_key")
