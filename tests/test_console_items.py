"""Bugs, ideas and stories in the console: a request becomes one (or joins one) from its
screen, the backlog lists them by how many customers wait, and one key tells them all."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Select, Static, TextArea

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.ui import make_app
from supportdesk.ui.modals.convert import ConvertModal
from supportdesk.ui.modals.fix import FixModal
from supportdesk.ui.screens.backlog import BacklogScreen
from supportdesk.ui.screens.item import ItemScreen
from supportdesk.ui.screens.request import RequestScreen
from supportdesk.ui.screens.stack import StackScreen
from tests.fixtures import drop_into_maildir
from tests.mailfactory import make_mail
from tests.test_console import SIZE, console_desk, settle, stack_numbers

HOSTILE = "[bold red]x[/] makes the export \x1b[31mred\x1b[0m"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Times on screen are local: the same on every machine for the snapshots."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def write_in(
    desk: Desk, folder: Path, clock: FrozenClock, sender: str, subject: str, body: str
) -> int:
    """One more customer mail taken in; returns its request's number."""
    drop_into_maildir(folder, make_mail(sender=sender, subject=subject, body=body))
    desk.fetch()
    clock.advance(timedelta(minutes=3))
    return desk.stack()[0].number


def sent_templates(desk: Desk, number: int) -> list[str]:
    """The templates of the mail queued on the request by converting, attaching, answering."""
    return [
        e["detail"]["template"]
        for e in desk.request(number).events
        if e["kind"] in ("convert", "attach", "reply") and (e["detail"] or {}).get("template")
    ]


def replies(desk: Desk, number: int) -> list:  # type: ignore[type-arg]
    return [m for m in desk.request(number).messages if m.direction == "out" and m.kind == "reply"]


def options(pilot: Pilot[None], selector: str) -> list[str]:
    choices = pilot.app.screen.query_one(selector, OptionList)
    return [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]


def table_column(pilot: Pilot[None], selector: str, column: str) -> list[str]:
    table = pilot.app.screen.query_one(selector, DataTable)
    return [str(table.get_cell(row, column)) for row in table.rows]


@pytest.mark.slow
async def test_a_request_becomes_a_bug_from_its_screen(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "b")  # Мария's request, on top
        await settle(pilot)
        assert isinstance(app.screen, ConvertModal)
        title = app.screen.query_one("#title", Input)
        assert title.has_focus and title.value == "Не могу выгрузить проект"  # from the subject
        assert title.cursor_position == len(title.value)
        assert "Excel" in app.screen.query_one("#description", TextArea).text
        await pilot.press(*" в Excel")
        await pilot.press("enter")
        await settle(pilot)

        [item] = desk.items()
        assert (item.number, item.kind, item.title) == (
            1,
            "bug",
            "Не могу выгрузить проект в Excel",
        )
        assert item.requests == [3] and item.waiting == 1
        request = desk.request(3).request
        assert (request.status, request.item) == ("linked", 1)
        assert sent_templates(desk, 3) == ["bug_ack"] and len(replies(desk, 3)) == 1
        assert isinstance(app.screen, StackScreen)
        assert stack_numbers(pilot) == [2, 1]  # off the stack: it waits for the fix


async def test_ctrl_t_makes_it_an_idea_which_closes_the_request(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "b")
        await settle(pilot)
        await pilot.press("ctrl+t")  # bug → idea, without leaving the title
        assert "new idea" in str(app.screen.query_one("#convert-hint", Static).render())
        await pilot.press("enter")
        await settle(pilot)
        [item] = desk.items()
        assert item.kind == "idea"
        request = desk.request(3).request
        assert (request.status, request.close_reason) == ("closed", "idea")
        assert sent_templates(desk, 3) == ["idea_thanks"]
        assert isinstance(app.screen, StackScreen) and stack_numbers(pilot) == [2, 1]


def export_and_reset_bugs(folder: Path, clock: FrozenClock) -> Desk:
    """The console desk with two bugs: #1 "Export to Excel fails" (Мария's #3) and #2
    "Password reset email never arrives" (Erin's #4), which fits Dan's #2 best."""
    desk = console_desk(folder, clock)
    desk.convert(3, "bug", "anna", title="Export to Excel fails")
    erin = write_in(
        desk,
        folder,
        clock,
        "Erin Example <erin@example.com>",
        "No reset mail",
        "The password reset email never arrives, I tried five times.\n",
    )
    desk.convert(erin, "bug", "anna", title="Password reset email never arrives")
    return desk


@pytest.mark.slow
async def test_attach_to_an_existing_bug_found_by_typing_its_title(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = export_and_reset_bugs(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stack_numbers(pilot) == [2, 1]
        await pilot.press("enter", "b")  # Dan's login problem
        await settle(pilot)
        assert options(pilot, "#existing")[0].startswith("bug #2")  # what fits his mail first
        await pilot.press("ctrl+u", *"exprot")  # a typo
        await settle(pilot)
        found = options(pilot, "#existing")
        assert found[0].startswith("bug #1") and "Export to Excel fails" in found[0]
        assert "1 waiting" in found[0]
        await pilot.press("down", "enter")
        await settle(pilot)

        assert [r.number for r in desk.item(1).requests] == [2, 3]
        assert desk.item(2).item.requests == [4]
        request = desk.request(2).request
        assert (request.status, request.item) == ("linked", 1)
        assert sent_templates(desk, 2) == ["bug_ack"]
        assert len(desk.items()) == 2  # attached, nothing new created
        assert isinstance(app.screen, StackScreen) and stack_numbers(pilot) == [1]


@pytest.mark.slow
async def test_down_and_enter_before_the_results_attach_to_what_was_typed(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fast typist's ↓ Enter can come before the search for what they typed has answered:
    they wait for it rather than take the top of the earlier list (bug #2, the suggestion)."""
    desk = export_and_reset_bugs(tmp_path, clock)
    answer = threading.Event()
    search = desk.search_items

    def slow_search(query: str, number: int | None = None, limit: int = 10) -> list:  # type: ignore[type-arg]
        if query.strip():
            answer.wait(10)
        return search(query, number, limit)

    monkeypatch.setattr(desk, "search_items", slow_search)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "b")
        await settle(pilot)
        await pilot.press("ctrl+u", *"export", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConvertModal)  # neither created nor attached yet
        answer.set()
        await settle(pilot)
        assert desk.request(2).request.item == 1
        assert len(desk.items()) == 2


async def test_the_request_screen_names_its_item_and_opens_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = export_and_reset_bugs(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_request(3)
        await settle(pilot)
        facts = str(app.screen.query_one("#facts", Static).render())
        assert "item     bug #1 · open" in facts
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ItemScreen) and app.screen.number == 1


def backlog_desk(folder: Path, clock: FrozenClock) -> Desk:
    """Bug #1 with one customer waiting, story #2 (in progress) with two, idea #3 with a
    title that is Rich markup, and bug #4, fixed, whom nobody waits on."""
    desk = console_desk(folder, clock)
    desk.convert(1, "bug", "anna", title="Charged twice for one month")
    desk.convert(2, "story", "anna", title="Log in with a single sign-on", description="SSO")
    desk.attach(3, 2, "anna")
    desk.set_item(2, "anna", status="in_progress", ref="JIRA-7")
    erin = write_in(desk, folder, clock, "Erin <erin@example.com>", HOSTILE, "Make it red.\n")
    desk.convert(erin, "idea", "anna")
    fred = write_in(desk, folder, clock, "Fred <fred@example.com>", "Typo", "A typo.\n")
    desk.convert(fred, "bug", "anna", title="Typo on the invoice page")
    desk.fix_item(4, "anna", notify=True)
    return desk


@pytest.mark.slow
async def test_the_backlog_shows_who_waits_and_fixing_tells_them(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = backlog_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, BacklogScreen)
        # open work, the most customers waiting first; the fixed typo is not open work
        assert table_column(pilot, "#items", "number") == ["#2", "#3", "#1"]
        assert table_column(pilot, "#items", "waiting") == ["2", "1", "1"]
        assert table_column(pilot, "#items", "status") == ["in progress", "open", "open"]
        assert "[bold red]x[/]" in table_column(pilot, "#items", "title")[1]
        app.screen.query_one("#item-status", Select).value = "any"
        await settle(pilot)
        assert table_column(pilot, "#items", "number") == ["#2", "#3", "#1", "#4"]
        app.screen.query_one("#item-status", Select).value = "open work"
        await settle(pilot)

        await pilot.press("enter")  # the story two customers wait on
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ItemScreen) and screen.number == 2
        facts = str(screen.query_one("#item-facts", Static).render())
        assert "story #2  Log in with a single sign-on" in facts and "JIRA-7" in facts
        assert table_column(pilot, "#linked", "number") == ["#2", "#3"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen) and app.screen.number == 3
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen

        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FixModal)
        assert options(pilot, "#fix-choices")[0] == (
            "Tell all 2 waiting customers now (fixed_notice to each)"
        )
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        item = desk.item(2).item
        assert (item.status, item.waiting) == ("done", 0)  # a story is done, not fixed
        for number in (2, 3):
            request = desk.request(number).request
            assert (request.status, request.reason) == ("waiting", "answered")
            assert sent_templates(desk, number)[-1] == "fixed_notice"
        assert table_column(pilot, "#linked", "status") == ["waiting", "waiting"]
        assert "done" in str(screen.query_one("#item-facts", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BacklogScreen)
        assert table_column(pilot, "#items", "number") == ["#3", "#1"]  # no longer open work


@pytest.mark.slow
async def test_a_status_change_to_fixed_puts_the_customers_back_on_the_stack(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = backlog_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_item(1)
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # open → in progress → fixed
        await settle(pilot)
        assert desk.item(1).item.status == "fixed"
        request = desk.request(1).request
        assert (request.status, request.reason) == ("open", "fixed")
        assert sent_templates(desk, 1) == ["bug_ack"]  # nobody told yet: an agent answers
        await pilot.press("e")
        await settle(pilot)
        await pilot.press(*"BUG-12", "enter")
        await settle(pilot)
        assert desk.item(1).item.ref == "BUG-12"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        table = app.screen.query_one(DataTable)
        assert str(table.get_cell("1", "reason")) == "fixed"

        app.open_item(2)  # the story: not happening after all
        await settle(pilot)
        await pilot.press("s", "end", "enter")
        await settle(pilot)
        assert desk.item(2).item.status == "wont_do"
        await pilot.press("escape")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        reasons = {n: str(table.get_cell(str(n), "reason")) for n in (1, 2, 3)}
        assert reasons == {1: "fixed", 2: "won't do", 3: "won't do"}


def test_snapshot_backlog(tmp_path: Path, clock: FrozenClock, snap_compare) -> None:
    desk = backlog_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
