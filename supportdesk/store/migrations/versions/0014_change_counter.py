"""PostgreSQL: a counter of this database's committed writes, for the consoles' change watch.

Every write transaction that changed something takes the next value of `supportdesk_changes`
right after it commits (and notifies the listening consoles in the same step), so a console
that polls `data_version()` sees this desk's changes only; the server-wide snapshot it read
before also moved with every other database's writes. Nothing on SQLite, whose
`PRAGMA data_version` already counts one file's commits.

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-11 09:00:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS supportdesk_changes")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS supportdesk_changes")
