"""mutt/aerc habits in the console (issue 20): q back and quit, gg/G/Home/End, ctrl+l,
search in a thread, the raw message, the cursor following the top, and `?`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.widgets import DataTable, Input, TextArea

from supportdesk.clock import FrozenClock
from supportdesk.ui import make_app
from supportdesk.ui.modals.confirm import ConfirmModal
from supportdesk.ui.screens.backlog import BacklogScreen
from supportdesk.ui.screens.request import RequestScreen, ThreadView
from supportdesk.ui.screens.requests import RequestsScreen
from supportdesk.ui.screens.reviews import ReviewsScreen
from supportdesk.ui.screens.stack import StackScreen
from supportdesk.ui.screens.stats import StatsScreen
from tests.test_console import console_desk, settle, stack_numbers, utc  # noqa: F401

SIZE = (120, 36)


def cursor_number(app) -> int:  # type: ignore[no-untyped-def]
    table = app.screen.query_one(DataTable)
    return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


async def test_gg_G_home_and_end_move_to_the_top_and_bottom_of_the_stack(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stack_numbers(pilot) == [3, 2, 1]
        await pilot.press("G")
        assert cursor_number(app) == 1
        await pilot.press("g")  # one g waits for the second
        assert cursor_number(app) == 1
        await pilot.press("g")
        assert cursor_number(app) == 3
        await pilot.press("end")
        assert cursor_number(app) == 1
        await pilot.press("home")
        assert cursor_number(app) == 3
        await pilot.press("G", "g", "j", "g")  # another key between the two g: no gg
        assert cursor_number(app) == 1
        desk.set_priority(1, "urgent", "bob")
        await pilot.press("ctrl+l")  # refresh: mutt's redraw
        await settle(pilot)
        assert stack_numbers(pilot) == [1, 3, 2]
        assert isinstance(app.screen, StackScreen)
    desk.close_database()


async def test_gg_and_G_on_the_requests_backlog_and_review_screens(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
        app.screen.query_one(DataTable).focus()
        await pilot.pause()
        first = cursor_number(app)
        await pilot.press("G")
        last = cursor_number(app)
        assert last != first
        await pilot.press("g", "g")
        assert cursor_number(app) == first
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        for key, screen in (("f3", BacklogScreen), ("f6", ReviewsScreen), ("f4", StatsScreen)):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen)
            await pilot.press("G", "g", "g", "home", "end", "ctrl+l")  # nothing breaks
            await settle(pilot)
            assert isinstance(app.screen, screen)
            await pilot.press("q")
            await settle(pilot)
            assert isinstance(app.screen, StackScreen)
    desk.close_database()


async def test_q_is_a_letter_in_the_search_field(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        search = app.screen.query_one("#search", Input)
        search.focus()
        await pilot.press("q", "g", "G")
        assert search.value == "qgG"
        assert isinstance(app.screen, RequestsScreen)
    desk.close_database()


async def test_q_on_the_stack_quits_at_once_without_drafts(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        await pilot.press("q")  # back
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        await pilot.press("q")
        await pilot.pause()
        assert app._exit  # quit, nothing asked
    desk.close_database()


async def test_q_asks_before_quitting_with_unsent_drafts_and_keeps_them(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    desk.save_draft(1, "anna", "Dear Carol, about the refund")
    desk.save_draft(3, "boris", "someone else's")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")  # a second draft: the reply screen keeps it
        await settle(pilot)
        editor = app.screen.query_one(TextArea)
        editor.load_text("")
        await pilot.press(*"qq gg")  # letters in the editor
        assert editor.text == "qq gg"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert app.screen.question == "2 unsent drafts (#1, #3): quit anyway? y/n"
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen) and not app._exit
        await pilot.press("ctrl+q")  # the immediate quit asks too
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await pilot.pause()
        assert app._exit
    assert desk.draft(1, "anna") is not None and desk.draft(3, "anna") is not None
    assert desk.draft(3, "anna").text == "qq gg"  # type: ignore[union-attr]
    desk.close_database()
