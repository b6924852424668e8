"""The schema's tables by name (`t.request`), and an upsert in the connection's dialect."""

from typing import Any

from sqlalchemy import Connection, Table

from supportdesk.store import models

# Typed loosely, as the ORM classes' tables were: statements over them stay as they were.
customer: Any = models.customer
agent: Any = models.agent
request: Any = models.request
request_tag: Any = models.request_tag
message: Any = models.message
message_raw: Any = models.message_raw
attachment: Any = models.attachment
event: Any = models.event
mailbox_state: Any = models.mailbox_state
lease: Any = models.lease
template: Any = models.template
template_use: Any = models.template_use
draft: Any = models.draft
item: Any = models.item
ack_log: Any = models.ack_log
text_seen: Any = models.text_seen
rating: Any = models.rating
daily_report: Any = models.daily_report
review: Any = models.review
quality_check: Any = models.quality_check
agent_signature: Any = models.agent_signature
presence: Any = models.presence


def upsert(conn: Connection, table: Table) -> Any:
    """An INSERT that can say ON CONFLICT DO NOTHING / DO UPDATE, in this connection's dialect
    (both have it): one statement, so a writer running alongside on PostgreSQL cannot slip
    in between a look-up and the insert."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
