"""Intake checkpoints: per account and folder, UIDVALIDITY and the last UID taken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from supportdesk.store import tables as t


@dataclass(frozen=True, slots=True)
class Checkpoint:
    account: str
    folder: str
    uidvalidity: int
    last_uid: int


def get_checkpoint(conn: Connection, account: str, folder: str) -> Checkpoint | None:
    s = t.mailbox_state
    row = conn.execute(
        select(s.c.uidvalidity, s.c.last_uid).where(s.c.account == account, s.c.folder == folder)
    ).first()
    return Checkpoint(account, folder, row[0], row[1]) if row else None


def _upsert(conn: Connection, account: str, folder: str, **values: object) -> None:
    """Set `values` on the account and folder's row, making it (with zeros) when missing."""
    s = t.mailbox_state
    stmt = t.upsert(conn, s).values(
        account=account, folder=folder, **{"uidvalidity": 0, "last_uid": 0, **values}
    )
    conn.execute(stmt.on_conflict_do_update(index_elements=[s.c.account, s.c.folder], set_=values))


def save_checkpoint(conn: Connection, point: Checkpoint, now: datetime) -> None:
    _upsert(
        conn,
        point.account,
        point.folder,
        uidvalidity=point.uidvalidity,
        last_uid=point.last_uid,
        updated_at=now,
        last_error=None,
    )


def record_error(conn: Connection, account: str, folder: str, error: str, now: datetime) -> None:
    _upsert(conn, account, folder, last_error=error, updated_at=now)


def clear_error(conn: Connection, account: str, folder: str, now: datetime) -> None:
    s = t.mailbox_state
    conn.execute(
        update(s)
        .where(s.c.account == account, s.c.folder == folder)
        .values(last_error=None, updated_at=now)
    )


def mark_polled(conn: Connection, account: str, folders: list[str], now: datetime) -> None:
    """Note a good poll that found nothing new: the checkpoints stay, their time moves on (a
    folder polled for the first time gets an empty checkpoint)."""
    for folder in folders:
        _upsert(conn, account, folder, updated_at=now)
