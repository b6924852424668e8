"""Answering like a mail client: snooze, undo send, signatures per language, presence.

`request.snoozed_until`: a waiting request comes back on top then (reason `snoozed`) unless
the customer writes first. `message.undo_until`: an agent's reply waits in the outbox until
then and can be brought back to the editor. `draft.attachments` and `review.attachments`
(JSON): the files an answer carries while it is a draft or a trainee's letter held for
review. `agent_signature`: an agent's signature per
language ("" = any language). `presence`: who has a request open or is replying to it now
(the collision warning), refreshed while they are there.

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from supportdesk.store.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("request", sa.Column("snoozed_until", UTCDateTime(), nullable=True))
    op.create_index("ix_request_snoozed", "request", ["status", "snoozed_until"])
    op.add_column("message", sa.Column("undo_until", UTCDateTime(), nullable=True))
    op.add_column("draft", sa.Column("attachments", sa.Text(), nullable=True))
    op.add_column("review", sa.Column("attachments", sa.Text(), nullable=True))
    op.create_table(
        "agent_signature",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agent_login", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False, server_default=""),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("agent_login", "language", name="ux_agent_signature"),
    )
    op.create_table(
        "presence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("request.id"), nullable=False),
        sa.Column("agent_login", sa.String(64), nullable=False),
        sa.Column("activity", sa.String(16), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("request_id", "agent_login", name="ux_presence"),
    )
    op.create_index("ix_presence_seen", "presence", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_presence_seen", table_name="presence")
    op.drop_table("presence")
    op.drop_table("agent_signature")
    op.drop_column("review", "attachments")
    op.drop_column("draft", "attachments")
    op.drop_column("message", "undo_until")
    op.drop_index("ix_request_snoozed", table_name="request")
    op.drop_column("request", "snoozed_until")
