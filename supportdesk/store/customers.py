"""Customers as senders: the name on record for an address, and who else goes by a name."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, or_, select

from supportdesk.store import tables as t

_c = t.customer
_CHUNK = 500


def name_key(name: str) -> str:
    """A name as a reader compares it: case and spacing aside."""
    return " ".join(name.split()).casefold()


def names_of(conn: Connection, emails: Iterable[str]) -> dict[str, str]:
    """The name on record for each of `emails` that belongs to a customer."""
    wanted = sorted({e for e in emails if e})
    found: dict[str, str] = {}
    for i in range(0, len(wanted), _CHUNK):
        rows = conn.execute(
            select(_c.c.email, _c.c.name).where(_c.c.email.in_(wanted[i : i + _CHUNK]))
        )
        found.update({email: name for email, name in rows})
    return found


def namesakes(conn: Connection, names: Iterable[str]) -> dict[str, set[str]]:
    """The addresses of the customers going by each of `names`, case and spacing aside:
    {name_key(name): addresses}. A name with more than one address is shared."""
    wanted = sorted({n for n in names if n and n.strip()})
    found: dict[str, set[str]] = {}
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        keys = {name_key(n) for n in chunk}
        # lower() is what both databases have (ASCII only on SQLite); the exact names catch
        # the rest, and the keys are compared again here.
        rows = conn.execute(
            select(_c.c.name, _c.c.email).where(
                or_(_c.c.name.in_(chunk), func.lower(_c.c.name).in_(sorted(keys)))
            )
        )
        for name, email in rows:
            key = name_key(name)
            if key in keys:
                found.setdefault(key, set()).add(email)
    return found
