"""Owners in the console (issue 18, point 3): `a` assigns with a fuzzy picker of the enabled
agents (on the stack and on a request), a request someone else owns is dimmed with its owner
shown and `n` skips it, and `m` on the stack toggles "mine"."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable, OptionList, Static

from supportdesk.clock import FrozenClock
from supportdesk.ui import make_app
from supportdesk.ui.modals.agent_picker import AgentPickerModal
from supportdesk.ui.screens.request import RequestScreen
from supportdesk.ui.screens.stack import StackScreen
from tests.test_console import SIZE, console_desk, settle, stack_numbers


def _row(screen: object, number: int) -> dict[str, Text]:
    table = screen.query_one(DataTable)  # type: ignore[attr-defined]
    keys = [c.value for c in table.columns]
    return dict(zip(keys, table.get_row(str(number)), strict=True))


def _dimmed(row: dict[str, Text]) -> bool:
    return all("dim" in str(cell.style) for cell in row.values())


async def test_a_assigns_with_the_picker_and_others_see_it_dimmed_and_skip_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)  # #3 on top, then #2, #1
    desk.ensure_agent("bob", "Bob Builder")
    desk.ensure_agent("carol", "Carol Cook")
    desk.set_agent_active("carol", False)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not _dimmed(_row(app.screen, 3))
        await pilot.press("a")  # the top request, #3
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, AgentPickerModal)
        listed = picker.query_one(OptionList)
        shown = [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]
        assert any("bob (Bob Builder)" in s for s in shown)
        assert not any("carol" in s for s in shown)  # disabled: nobody's owner
        assert any("nobody" in s for s in shown)
        await pilot.press(*"build", "enter")  # fuzzy over the name too
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert desk.request(3).request.assignee == "bob"
        assigned = [e for e in desk.request(3).events if e["kind"] == "assign"]
        assert [(e["actor"], e["detail"]) for e in assigned] == [
            ("anna", {"from": None, "to": "bob"})
        ]
        row = _row(app.screen, 3)
        assert row["claimed"].plain == "→bob"
        assert _dimmed(row)
        assert not _dimmed(_row(app.screen, 2))

        await pilot.press("n")  # take next skips bob's #3
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen) and app.screen.number == 2
        assert desk.request(3).request.claimed_by is None


async def test_a_on_a_request_shows_the_owner_and_nobody_unassigns(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    desk.ensure_agent("bob", "Bob Builder")
    desk.assign(2, "bob", "bob")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_request(2)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RequestScreen)
        assert "owner    bob" in str(screen.query_one("#facts", Static).render())
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AgentPickerModal)
        await pilot.press(*"nob", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert desk.request(2).request.assignee is None
        assert "owner    nobody" in str(screen.query_one("#facts", Static).render())
        await pilot.press("a", "escape")  # cancelled: nothing changes
        await settle(pilot)
        assert app.screen is screen
        assert [e["kind"] for e in desk.request(2).events if "assign" in e["kind"]] == [
            "assign",
            "unassign",
        ]


async def test_m_toggles_mine_with_my_waiting_request_too(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    desk.ensure_agent("bob", "Bob Builder")
    desk.assign(1, "anna", "anna")
    desk.assign(2, "anna", "anna")
    desk.assign(3, "bob", "anna")
    desk.reply(1, "We refunded the second charge.", "anna")  # waiting: off the stack
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stack_numbers(pilot) == [3, 2]
        await pilot.press("m")
        await settle(pilot)
        assert "Mine" in str(app.screen.title)
        assert stack_numbers(pilot) == [2, 1]  # mine, newest first, bob's #3 not
        assert _row(app.screen, 1)["reason"].plain == "waiting"
        assert not _dimmed(_row(app.screen, 1))
        await pilot.press("m")
        await settle(pilot)
        assert "Mine" not in str(app.screen.title)
        assert stack_numbers(pilot) == [3, 2]
