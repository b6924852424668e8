"""The reply screen's f8 (send and close), f9 (send and snooze) and the app's `u` (undo
send), with the Textual pilot on a real desk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label, OptionList, Static, TextArea

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.ui import make_app
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.modals.close import CloseModal
from supportdesk.ui.modals.snooze import SnoozeModal
from supportdesk.ui.screens.reply import ReplyScreen
from supportdesk.ui.screens.request import RequestScreen
from tests.fixtures import make_desk
from tests.test_console import SIZE, console_desk, settle, utc  # noqa: F401 (utc: autouse)
from tests.test_console_failures import toasts
from tests.test_console_reply import open_reply

ANSWER = "We refunded the second charge: you will see it in three days.\n"


async def _write(screen: ReplyScreen, text: str = ANSWER) -> None:
    screen.query_one("#editor", TextArea).load_text(text)


def _replies(desk: Desk, number: int) -> list[str]:
    return [m.text for m in desk.request(number).messages if m.kind == "reply"]


def _keys(app: object) -> list[str]:
    return [key.description for key in app.screen.query_one(KeyBar).keys]  # type: ignore[attr-defined]


async def test_f8_sends_and_closes_with_the_reason_picked(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_reply(pilot, 1)
        assert {"Send+close", "Send+snooze"} <= set(_keys(app))
        await _write(screen)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, CloseModal)
        assert _replies(desk, 1) == []  # nothing sent before the reason is picked
        reasons = app.screen.query_one("#reasons", OptionList)
        reasons.highlighted = 0  # resolved
        await pilot.press("enter")
        await settle(pilot)
        request = desk.request(1).request
        assert (request.status, request.close_reason) == ("closed", "resolved")
        assert len(_replies(desk, 1)) == 1 and ANSWER.strip() in _replies(desk, 1)[0]
        assert any("Reply to #1 queued, closed (resolved)." in t for t in toasts(app))
        assert not isinstance(app.screen, ReplyScreen)


async def test_escape_in_the_picker_sends_nothing(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(pilot, 1)
        await _write(screen)
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and _replies(desk, 1) == []


@pytest.mark.slow
async def test_f9_refuses_a_bad_time_then_sends_and_snoozes(
    tmp_path: Path, clock: FrozenClock
) -> None:
    # Monday 5 January 2026, after 09:00 UTC
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_reply(pilot, 1)
        await _write(screen)
        await pilot.press("f9")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, SnoozeModal)
        field = modal.query_one("#until", Input)
        assert "3d" in str(field.placeholder) and "mon 9:00" in str(field.placeholder)
        field.value = "someday"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is modal
        problem = str(modal.query_one("#snooze-problem", Label).render())
        assert problem.startswith("cannot read 'someday' as a time")
        assert _replies(desk, 1) == []  # not sent until the snooze is valid
        field.value = "2026-01-01"
        await pilot.press("enter")
        await settle(pilot)
        assert "in the past" in str(modal.query_one("#snooze-problem", Label).render())
        field.value = "tomorrow 9:00"
        await pilot.press("enter")
        await settle(pilot)
        request = desk.request(1).request
        assert request.status == "waiting"
        assert request.snoozed_until == datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
        assert len(_replies(desk, 1)) == 1
        assert any("snoozed until Tue 09:00" in t for t in toasts(app))

        app.push_screen(RequestScreen(1))
        await settle(pilot)
        facts = str(app.screen.query_one("#facts", Static).render())
        assert "snoozed until Tue 09:00" in facts


async def test_u_brings_the_last_reply_back_to_the_editor(
    tmp_path: Path, clock: FrozenClock
) -> None:
    console_desk(tmp_path, clock).close_database()
    desk = make_desk(tmp_path, clock, {"outgoing": {"undo_seconds": 10}})
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert "Undo send" not in _keys(app)  # nothing to undo yet
        screen = await open_reply(pilot, 1)
        await _write(screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("Sent to carol@example.org · u to undo (10 s)" in t for t in toasts(app))
        assert "Undo send" in _keys(app)
        assert desk.request(1).request.status == "waiting"

        clock.advance(timedelta(seconds=5))
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen) and app.screen.number == 1
        assert app.screen.query_one("#editor", TextArea).text.strip() == ANSWER.strip()
        assert _replies(desk, 1) == []  # gone from the thread, never delivered
        assert desk.request(1).request.status == "new"
        assert "Undo send" not in _keys(app)


async def test_u_is_gone_once_the_window_passed(tmp_path: Path, clock: FrozenClock) -> None:
    console_desk(tmp_path, clock).close_database()
    desk = make_desk(tmp_path, clock, {"outgoing": {"undo_seconds": 10}})
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_reply(pilot, 1)
        await _write(screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        clock.advance(timedelta(seconds=10))
        app.refresh_bindings()
        await settle(pilot)
        assert "Undo send" not in _keys(app)
        await pilot.press("u")
        await settle(pilot)
        assert len(_replies(desk, 1)) == 1
        assert not isinstance(app.screen, ReplyScreen)


async def test_claim_and_release_moved_to_shift_u(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(RequestScreen(1))
        await settle(pilot)
        assert desk.request(1).request.claimed_by == "anna"
        await pilot.press("U")
        await settle(pilot)
        assert desk.request(1).request.claimed_by is None


@pytest.mark.slow  # a polling console and a real SMTP server: over 2 s
async def test_a_reply_goes_out_as_soon_as_its_undo_window_closes(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    """The console that polls runs a round when `u` can no longer take the reply back:
    the customer gets it then, not up to a poll interval later."""
    from tests.fixtures import smtp_outgoing

    console_desk(tmp_path, clock).close_database()
    config = smtp_outgoing(smtp_server)
    config["outgoing"]["undo_seconds"] = 10
    desk = make_desk(tmp_path, clock, config)
    app = make_app(desk, "anna", background=True)  # it holds the poller lease
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        smtp_server.clear()  # the acknowledgements of the first round
        screen = await open_reply(pilot, 1)
        await _write(screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert smtp_server.messages == []  # waiting for the undo window

        clock.advance(timedelta(seconds=11))
        app.undo_window_closed()  # what the window's timer calls
        await settle(pilot)
        received = [r.message.get_body(("plain",)).get_content() for r in smtp_server.messages]
        assert len(received) == 1 and ANSWER.strip() in received[0]
        assert "Undo send" not in _keys(app)
