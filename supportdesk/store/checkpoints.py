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


def save_checkpoint(conn: Connection, point: Checkpoint, now: datetime) -> None:
    s = t.mailbox_state
    done = conn.execute(
        update(s)
        .where(s.c.account == point.account, s.c.folder == point.folder)
        .values(
            uidvalidity=point.uidvalidity, last_uid=point.last_uid, updated_at=now, last_error=None
        )
    ).rowcount
    if not done:
        conn.execute(
            s.insert().values(
                account=point.account,
                folder=point.folder,
                uidvalidity=point.uidvalidity,
                last_uid=point.last_uid,
                updated_at=now,
            )
        )


def record_error(conn: Connection, account: str, folder: str, error: str, now: datetime) -> None:
    s = t.mailbox_state
    done = conn.execute(
        update(s)
        .where(s.c.account == account, s.c.folder == folder)
        .values(last_error=error, updated_at=now)
    ).rowcount
    if not done:
        conn.execute(
            s.insert().values(
                account=account,
                folder=folder,
                uidvalidity=0,
                last_uid=0,
                updated_at=now,
                last_error=error,
            )
        )


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
    s = t.mailbox_state
    for folder in folders:
        done = conn.execute(
            update(s).where(s.c.account == account, s.c.folder == folder).values(updated_at=now)
        ).rowcount
        if not done:
            conn.execute(
                s.insert().values(
                    account=account, folder=folder, uidvalidity=0, last_uid=0, updated_at=now
                )
            )
