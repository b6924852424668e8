"""The collision warning: a line on the request and reply screens saying who else is there.

`PresenceLine` says this console is at the request (`viewing` on the request screen,
`replying` on the reply screen) when it mounts and again every `HEARTBEAT`, says goodbye when
it unmounts, and reads who else is there every `REREAD_EVERY` seconds and whenever the app's
data watch sees a change (another console's heartbeat is a write, so it wakes the watch:
LISTEN/NOTIFY on PostgreSQL, `data_version` on SQLite). Hidden while nobody else is there.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.widgets import Static

from supportdesk.desk.presence import HEARTBEAT
from supportdesk.domain.enums import Activity
from supportdesk.domain.records import PresenceRecord
from supportdesk.ui.text import inert
from supportdesk.ui.work import run_desk

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp

REREAD_EVERY = 3.0
"""Seconds between looks at who else is at the request (besides the data watch)."""


def clock_time(when: datetime, now: datetime) -> str:
    """`14:02` in the console's time zone; with the date when it was not today."""
    local = when.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def presence_phrase(p: PresenceRecord, now: datetime) -> str:
    """ "bob is replying since 14:02" / "bob has it open since 14:01"."""
    when = clock_time(p.since, now)
    if p.activity == Activity.REPLYING:
        return f"{p.agent} is replying since {when}"
    return f"{p.agent} has it open since {when}"


def presence_warning(others: list[PresenceRecord], now: datetime) -> str:
    """One line for everyone else at the request, replying first; "" when nobody is."""
    return " · ".join(presence_phrase(p, now) for p in others)


class PresenceLine(Static):
    """Who else is at request `number`; says this agent is there doing `activity`."""

    app: SupportDeskApp

    DEFAULT_CSS = """
    PresenceLine {
        height: auto;
        padding: 0 1;
        background: $warning 30%;
        text-style: bold;
    }
    """

    def __init__(self, number: int, activity: Activity, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.number = number
        self.activity = activity
        self.others: list[PresenceRecord] = []
        self.display = False

    def on_mount(self) -> None:
        self.beat()
        self.set_interval(HEARTBEAT.total_seconds(), self.beat, name="presence-heartbeat")
        self.set_interval(REREAD_EVERY, self.reread, name="presence-reread")

    def on_unmount(self) -> None:
        below = self._below()
        if below is not None:  # back from the reply to the request: viewing it again
            below.beat()
            return
        # on an app worker: this widget's workers end with it
        desk, number, agent = self.app.desk, self.number, self.app.agent
        run_desk(
            self.app,
            f"Leaving #{number}",
            lambda: desk.presence.leave(number, agent),
            group="presence-leave",
        )

    def _lines(self) -> list[PresenceLine]:
        """The lines for this request on the app's screens, bottom to top (one row per
        request and agent: the topmost one says what the agent is doing)."""
        return [
            line
            for screen in self.app.screen_stack
            for line in screen.query(PresenceLine)
            if line.number == self.number
        ]

    def _below(self) -> PresenceLine | None:
        """The line of a screen still open under this one, for the same request."""
        lines = [line for line in self._lines() if line is not self]
        return lines[-1] if lines else None

    def _covered(self) -> bool:
        """Whether a screen above this one speaks for the agent at this request (the reply
        screen above the request screen)."""
        lines = self._lines()
        return self in lines and lines[-1] is not self

    def beat(self) -> None:
        """Say this agent is still here (then read who else is); a screen above that
        speaks for the agent at this request beats instead."""
        if self._covered():
            return
        desk, number, agent, activity = self.app.desk, self.number, self.app.agent, self.activity

        def here() -> list[PresenceRecord]:
            desk.presence.here(number, agent, activity)
            return desk.presence.others(number, agent)

        run_desk(self, f"Presence at #{number}", here, self._show, group="presence-beat")

    def reread(self) -> None:
        """Read again who else is at the request."""
        desk, number, agent = self.app.desk, self.number, self.app.agent
        run_desk(
            self,
            f"Who else is at #{number}",
            lambda: desk.presence.others(number, agent),
            self._show,
            group="presence-read",
            supersede=True,
        )

    def _show(self, others: list[PresenceRecord]) -> None:
        if not self.is_attached:
            return
        self.others = others
        text = presence_warning(others, self.app.desk.clock.now())
        self.update(inert(f"⚠ {text}") if text else "")
        self.display = bool(text)

    def replying(self) -> list[PresenceRecord]:
        """Who else was replying at the last look."""
        return [p for p in self.others if p.activity == Activity.REPLYING]
