"""Owners: assigning a request to an agent, the "mine" view, and giving a disabled agent's
requests back to the line. Every effective change is an `assign` or `unassign` event with
who did it and the owner before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supportdesk.desk.context import DeskContext
from supportdesk.domain import lifecycle
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.store import agents, owners
from supportdesk.store.events import add_event
from supportdesk.store.records import RequestRecord

ASSIGN_ATTEMPTS = 5
"""How often an assignment reads the owner again after another agent changed it first."""


def owner_event(
    conn: Any,
    number: int,
    now: datetime,
    actor: str,
    before: str | None,
    after: str | None,
    reason: str | None = None,
) -> None:
    kind = "assign" if after is not None else "unassign"
    add_event(
        conn,
        number,
        now,
        kind,
        actor=actor,
        reason=reason,
        detail={"from": before, "to": after},
    )


class OwnerService:
    """Who owns a request, and what each agent owns."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def assign(self, number: int, assignee: str | None, agent: str) -> bool:
        """Make `assignee` (an enabled agent; None: nobody) the owner of request `number`.
        True when the owner changed, False when it already was. The change is a
        compare-and-set on the owner read: when another agent changed it in between, the
        owner is read again and this change applies over theirs, with its own event."""
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            if assignee is not None:
                person = agents.get_agent(conn, assignee)
                if person is None:
                    raise NotFoundError(
                        f"unknown agent {assignee!r}: `supportdesk agents list` shows who "
                        "can own a request"
                    )
                if not person.active:
                    raise SupportDeskError(
                        f"agent {assignee!r} is disabled: assign the request to an enabled "
                        "agent (`supportdesk agents list`)"
                    )
            for _ in range(ASSIGN_ATTEMPTS):
                exists, before = owners.owner(conn, number)
                if not exists:
                    raise NotFoundError(f"request #{number} does not exist")
                if before == assignee:
                    return False
                if owners.set_owner(conn, number, before, assignee):
                    owner_event(conn, number, now, agent, before, assignee)
                    return True
        raise SupportDeskError(
            f"request #{number} changed owner too often at once: try again"
        )  # pragma: no cover - five changes between a read and an update

    def mine(self, agent: str, limit: int = 500) -> list[RequestRecord]:
        """The requests assigned to `agent` that are not closed, last pushed first."""
        with self.ctx.db.read() as conn:
            return owners.mine(conn, agent, lifecycle.OWNED, limit)

    @staticmethod
    def give_back(conn: Any, login: str, now: datetime) -> int:
        """A disabled agent's requests (not closed) go back to the line: unassigned, each
        with an `unassign` event (reason `disabled`). How many."""
        given = 0
        for number in owners.assigned_to(conn, login, lifecycle.OWNED):
            if owners.set_owner(conn, number, login, None):
                owner_event(conn, number, now, login, login, None, reason="disabled")
                given += 1
        return given
