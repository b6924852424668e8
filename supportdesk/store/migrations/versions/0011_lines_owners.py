"""Lines, owners and merged duplicates.

`agent.line` and `request.line`: the first line (1) talks to customers and takes every
request; the second (2) and further lines take what is escalated to them.
`request.merged_into`: a duplicate merged into another request (closed `duplicate`); a later
reply to it joins that one. An index on `request.assignee` serves the "mine" view.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-21 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agent", sa.Column("line", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("request", sa.Column("line", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("request", sa.Column("merged_into", sa.Integer(), nullable=True))
    op.create_index("ix_request_assignee", "request", ["assignee", "status"])
    op.create_index("ix_request_line", "request", ["line", "status", "pushed_at"])


def downgrade() -> None:
    op.drop_index("ix_request_line", table_name="request")
    op.drop_index("ix_request_assignee", table_name="request")
    op.drop_column("request", "merged_into")
    op.drop_column("request", "line")
    op.drop_column("agent", "line")
