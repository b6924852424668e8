"""Lines in the console: the stack shows the agent's own line (f5: all lines), and `e`
escalates the selected request with a required internal note; the customer gets nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from supportdesk.clock import FrozenClock
from supportdesk.ui import make_app
from supportdesk.ui.modals.escalate import EscalateModal
from supportdesk.ui.screens.request import RequestScreen
from supportdesk.ui.screens.stack import StackScreen
from tests.test_console import SIZE, console_desk, settle, stack_numbers


@pytest.mark.slow  # two consoles, over 2 s
async def test_e_escalates_from_the_stack_to_the_second_lines_stack(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    desk.add_agent("sam", "Sam Second", line=2)
    queued = desk.outbox_counts()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stack_numbers(pilot) == [3, 2, 1]
        assert "line 1 · f5 all lines" in app.screen.title
        await pilot.press("down", "e")  # Dan's login problem
        await settle(pilot)
        assert isinstance(app.screen, EscalateModal)
        await pilot.press("enter")  # no note: refused, the modal stays
        await settle(pilot)
        assert isinstance(app.screen, EscalateModal)
        await pilot.press(*"Reset mails bounce: check the mail logs", "enter")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert stack_numbers(pilot) == [3, 1]  # left line 1's stack

        request = desk.request(2)
        assert (request.request.line, request.request.reason) == (2, "escalated")
        notes = [m.text for m in request.messages if m.direction == "note"]
        assert notes == ["Reset mails bounce: check the mail logs\n"]
        assert [e["actor"] for e in request.events if e["kind"] == "escalate"] == ["anna"]
        assert desk.outbox_counts() == queued  # nothing was queued to the customer

        await pilot.press("f5")  # all lines
        await settle(pilot)
        assert sorted(stack_numbers(pilot)) == [1, 2, 3]
        assert "all lines" in app.screen.title
        assert "escalated" in str(app.screen.query_one("#stack").get_row("2"))
        await pilot.press("f5")
        await settle(pilot)
        assert stack_numbers(pilot) == [3, 1]

    second = make_app(desk, "sam", background=False)
    async with second.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stack_numbers(pilot) == [2]  # on top of line 2's stack
        assert "line 2 · f5 all lines" in second.screen.title
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(second.screen, RequestScreen)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("down")  # next line, hand back
        await pilot.press(*"Resent by hand", "enter")
        await settle(pilot)
        assert desk.request(2).request.line == 1
        assert desk.outbox_counts() == queued


@pytest.mark.slow  # over 2 s on a shared machine
async def test_e_to_an_agent_by_fuzzy_search(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    desk.add_agent("dee", "Dee Developer", line=3)
    desk.add_agent("sam", "Sam Second", line=2)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, EscalateModal)
        modal.query_one("#target", Input).focus()
        await pilot.press(*"develop")
        await pilot.press("tab", *"a bug", "enter")
        await settle(pilot)
        request = desk.request(3).request
        assert (request.line, request.assignee) == (3, "dee")
