"""The follow-up cycle and the SLA guard: a request's first-answer deadline and its mark, and
indexes for the tick (waiting requests by their last answer, claims by expiry, deadlines).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 12:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import supportdesk.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sla_due_at", supportdesk.store.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("sla_mark", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.create_index("ix_request_waiting", ["status", "last_outbound_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_request_claimed_until"), ["claimed_until"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_request_sla_due_at"), ["sla_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_sla_due_at"))
        batch_op.drop_index(batch_op.f("ix_request_claimed_until"))
        batch_op.drop_index("ix_request_waiting")
        batch_op.drop_column("sla_mark")
        batch_op.drop_column("sla_due_at")
