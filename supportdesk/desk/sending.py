"""Snooze and undo send (`desk.sending`).

- Snooze: a waiting request comes back on top at a time the agent gives (`3d`, `mon 9:00`,
  see durations.parse_when), unless the customer writes first (the tick, desk/tick.py).
- Undo send: an agent's reply waits in the outbox for `[outgoing] undo_seconds`; meanwhile
  `unsend` takes it back (the request as it was, the text in the agent's draft).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from supportdesk.desk.context import DeskContext
from supportdesk.domain import lifecycle
from supportdesk.durations import WHEN_EXAMPLES, parse_when
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.store import requests as reqs
from supportdesk.store import undo
from supportdesk.store.database import Connection
from supportdesk.store.drafts import get_draft, save_draft
from supportdesk.store.events import add_event


@dataclass(slots=True)
class Unsent:
    """A reply taken back before delivery."""

    number: int
    text: str
    restored: bool
    """The request is as it was before the reply (False: it changed meanwhile, e.g. the
    customer wrote, and keeps its new state)."""


def snooze(conn: Connection, now: datetime, number: int, until: datetime, agent: str) -> None:
    """Snooze request `number` until `until` (inside the caller's transaction): a
    compare-and-set on its status, so a customer's message arriving meanwhile wins."""
    request = reqs.get_request(conn, number)
    if request is None:
        raise NotFoundError(f"request #{number} does not exist")
    refusal = lifecycle.snooze_refusal(number, request.status)
    if refusal is not None:
        raise SupportDeskError(refusal)
    if not reqs.update_request(
        conn, number, lifecycle.SNOOZABLE, **lifecycle.snoozed(until, now)
    ):  # pragma: no cover - the status changed between the read and the write
        raise SupportDeskError(f"#{number} changed meanwhile: look again and snooze it then")
    add_event(conn, number, now, "snooze", actor=agent, detail={"until": until.isoformat()})


def undo_detail(
    conn: Connection, number: int, agent: str, text: str, template: str | None
) -> dict[str, Any]:
    """What a reply's event keeps so that `unsend` can put everything back: the request's
    state, the text, the template and the files the agent's draft had attached."""
    draft = get_draft(conn, number, agent)
    return {
        "before": undo.request_state(conn, number),
        "text": text,
        "template": template,
        "attachments": draft.attachments if draft is not None else [],
    }


class SendService:
    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def parse_when(self, text: str) -> datetime:
        """When `text` means (`3d`, `mon 9:00` ...) in the desk's time zone; one line
        SupportDeskError when it cannot be read, is past or more than a year ahead."""
        try:
            return parse_when(text, self.ctx.now(), self.ctx.settings.stats_zone)
        except ValueError as exc:
            raise SupportDeskError(str(exc)) from None

    examples = WHEN_EXAMPLES

    def label(self, until: datetime) -> str:
        """ "snoozed until Mon 09:00", in the desk's time zone."""
        return snoozed_label(until, self.ctx.now(), self.ctx.settings.stats_zone)

    def snooze(self, number: int, until: datetime | str, agent: str) -> datetime:
        """Snooze a waiting request until `until` (a time or what an agent writes); returns
        the time. It comes back on top then unless the customer writes first."""
        when = self.parse_when(until) if isinstance(until, str) else until
        now = self.ctx.now()
        if when <= now:
            raise SupportDeskError("that time is in the past: give a later time")
        with self.ctx.db.write() as conn:
            snooze(conn, now, number, when, agent)
        return when

    def unsnooze(self, number: int, agent: str) -> bool:
        """Clear request `number`'s snooze; False when it had none."""
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            request = reqs.get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            if request.snoozed_until is None:
                return False
            reqs.update_request(conn, number, **lifecycle.snoozed(None, now))
            add_event(conn, number, now, "unsnooze", actor=agent)
            return True

    def undo_until(self, message_id: str) -> datetime | None:
        """Until when the reply `message_id` may still be taken back (None: it may not)."""
        with self.ctx.db.read() as conn:
            found = undo.withdrawable(conn, message_id)
        if found is None or found.undo_until is None or found.undo_until <= self.ctx.now():
            return None
        return found.undo_until

    def undoable(self, message_id: str) -> tuple[str, datetime] | None:
        """(to whom, until when) while the reply `message_id` may still be taken back."""
        with self.ctx.db.read() as conn:
            found = undo.withdrawable(conn, message_id)
        if found is None or found.undo_until is None or found.undo_until <= self.ctx.now():
            return None
        return found.to, found.undo_until

    def unsend(self, message_id: str, agent: str) -> Unsent:
        """Take back `agent`'s reply `message_id` before it is delivered: it vanishes from
        the thread, the outbox and the figures (its events become `unsent_reply` ...), the
        request is as it was before (unless it changed since), the agent's draft holds the
        text again, and an `unsend` event says so. Too late (a
        worker took it, or the window passed): one line, and nothing changes."""
        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            found = undo.withdrawable(conn, message_id)
            if found is None:
                raise NotFoundError(f"no reply {message_id} to take back")
            if found.agent_login != agent:
                raise SupportDeskError(
                    f"the reply {message_id} is {found.agent_login or 'the desk'}'s: "
                    "only its writer takes it back"
                )
            if not undo.withdraw(conn, found.pk, now):
                raise SupportDeskError(f"too late: the reply is already on its way to {found.to}")
            number = found.request_id
            kept = undo.reply_undo(conn, number, message_id)
            restored = False
            if kept is not None:
                restored = undo.restore_request(conn, number, kept["before"], kept["after"], now)
                files = kept.get("attachments") or None  # the paths, attached again
                save_draft(conn, number, agent, kept["text"], kept.get("template"), now, files)
                undo.retire_events(conn, number, kept["at"], agent)  # out of the figures
            add_event(
                conn,
                number,
                now,
                "unsend",
                actor=agent,
                detail={"message_id": message_id, "restored": restored},
            )
            return Unsent(number, kept["text"] if kept else "", restored)


def snoozed_label(until: datetime, now: datetime, zone: tzinfo) -> str:
    """ "snoozed until Mon 09:00" (within a week), else with the date, in the desk's zone."""
    local = until.astimezone(zone)
    if until - now < timedelta(days=6):
        return f"snoozed until {local:%a %H:%M}"
    return f"snoozed until {local:%a %Y-%m-%d %H:%M}"
