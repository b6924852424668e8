"""Core Table objects for fast bulk statements (the ORM classes stay the schema's source)."""

from typing import Any

from sqlalchemy import Connection, Table

from supportdesk.store import models

customer = models.Customer.__table__  # type: ignore[attr-defined]
agent = models.Agent.__table__  # type: ignore[attr-defined]
request = models.Request.__table__  # type: ignore[attr-defined]
request_tag = models.RequestTag.__table__  # type: ignore[attr-defined]
message = models.Message.__table__  # type: ignore[attr-defined]
message_raw = models.MessageRaw.__table__  # type: ignore[attr-defined]
attachment = models.Attachment.__table__  # type: ignore[attr-defined]
event = models.Event.__table__  # type: ignore[attr-defined]
mailbox_state = models.MailboxState.__table__  # type: ignore[attr-defined]
lease = models.Lease.__table__  # type: ignore[attr-defined]
template = models.Template.__table__  # type: ignore[attr-defined]
template_use = models.TemplateUse.__table__  # type: ignore[attr-defined]
draft = models.Draft.__table__  # type: ignore[attr-defined]
item = models.Item.__table__  # type: ignore[attr-defined]
ack_log = models.AckLog.__table__  # type: ignore[attr-defined]
text_seen = models.TextSeen.__table__  # type: ignore[attr-defined]


def upsert(conn: Connection, table: Table) -> Any:
    """An INSERT that can say ON CONFLICT DO NOTHING / DO UPDATE, in this connection's dialect
    (both have it): one statement, so a writer running alongside on PostgreSQL cannot slip
    in between a look-up and the insert."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
