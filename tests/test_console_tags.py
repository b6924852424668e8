"""The console: the stack's priority column and order, and `t` editing a request's tags with
completion from the tags in use."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from supportdesk.clock import FrozenClock
from supportdesk.ui import make_app
from supportdesk.ui.modals.tags import TagsModal
from supportdesk.ui.screens.request import RequestScreen
from supportdesk.ui.screens.stack import StackScreen
from tests.test_console import SIZE, console_desk, settle, stack_numbers
from tests.test_console_failures import the_one_line


def subjects(app: object) -> dict[int, str]:
    table = app.screen.query_one(DataTable)  # type: ignore[attr-defined]
    cells = table.get_column("subject")
    return {int(str(k.value)): str(cell) for k, cell in zip(list(table.rows), cells, strict=True)}


async def test_the_stack_shows_priority_and_pins_urgent(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)  # 3 on top, then 2, then 1
    desk.set_priority(1, "urgent", "anna")
    desk.set_priority(2, "low", "anna")
    desk.set_priority(3, "high", "anna")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(80, 24)) as pilot:  # readable at 80 columns
        await settle(pilot)
        assert stack_numbers(pilot) == [1, 3, 2]  # urgent first; high and low do not reorder
        assert subjects(app) == {  # the priority before the subject
            1: "!! Charged twice",
            3: "! Не могу выгрузить проект",
            2: "↓ Cannot log in",
        }
        desk.set_priority(1, "normal", "bob")
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert stack_numbers(pilot) == [3, 2, 1]
        assert subjects(app)[1] == "Charged twice"  # normal: no mark
        await pilot.press("k", "k", "enter")  # the cursor stayed on #1: up to #3
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen) and app.screen.number == 3
        facts = str(app.screen.query_one("#facts", Static).render())
        assert "priority high" in facts
        await pilot.press("p")  # a picker of four, on the current one
        await settle(pilot)
        await pilot.press("up", "enter")  # high → urgent
        await settle(pilot)
        assert desk.request(3).request.priority == "urgent"
        assert "priority urgent" in str(app.screen.query_one("#facts", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert stack_numbers(pilot) == [3, 2, 1]
        assert subjects(app)[3] == "!! Не могу выгрузить проект"


@pytest.mark.slow
async def test_t_edits_the_tags_with_completion(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    desk.change_tags(1, ["billing", "refund"], [], "bob")
    desk.change_tags(3, ["export"], [], "bob")
    app = make_app(
        desk,
        "anna",
        background=False,
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("t")  # on the stack: the selected request, #3
        await settle(pilot)
        assert isinstance(app.screen, TagsModal)
        field = app.screen.query_one(Input)
        assert field.value == "export"
        await pilot.press("space", "b", "i", "right")  # → completes "billing"
        assert field.value == "export billing"
        await pilot.press("space", "V", "I", "P", "enter")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert desk.request(3).request.tags == ["billing", "export", "vip"]

        await pilot.press("enter")  # the request screen: t there too
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        desk.change_tags(3, ["urgent-call"], [], "bob")  # another agent, meanwhile
        await pilot.press("t")
        await settle(pilot)
        field = app.screen.query_one(Input)
        field.value = "billing vip"  # export removed
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        # only the difference is saved: bob's tag stays
        assert desk.request(3).request.tags == ["billing", "urgent-call", "vip"]
        facts = str(app.screen.query_one("#facts", Static).render())
        assert "tags     billing, urgent-call, vip" in facts
        events = [e for e in desk.request(3).events if e["kind"] == "tags" and e["actor"] == "anna"]
        assert [e["detail"] for e in events] == [
            {"added": ["billing", "vip"], "removed": []},
            {"added": [], "removed": ["export"]},
        ]

        await pilot.press("t")
        await settle(pilot)
        app.screen.query_one(Input).value = "billing no/way!"
        await pilot.press("enter")
        line = await the_one_line(pilot, "Tags of #3")
        assert "not allowed" in line
        assert desk.request(3).request.tags == ["billing", "urgent-call", "vip"]
