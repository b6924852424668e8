"""The collision warning in the console: anna's console and bob (a second desk on the same
database, beating as another console would) see each other on the request and reply screens,
and sending while bob is replying asks first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import TextArea

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.domain.enums import Activity
from supportdesk.ui import make_app
from supportdesk.ui.app import SupportDeskApp
from supportdesk.ui.modals.confirm import ConfirmModal
from supportdesk.ui.presence import PresenceLine
from supportdesk.ui.screens.reply import ReplyScreen
from supportdesk.ui.screens.request import RequestScreen
from supportdesk.ui.screens.stack import StackScreen
from tests.fixtures import make_desk
from tests.test_console import SIZE, console_desk, settle, utc  # noqa: F401 - utc: a fixture


def _bob(folder: Path, clock: FrozenClock) -> Desk:
    bob = make_desk(folder, clock)
    bob.ensure_agent("bob")
    return bob


def warning(app: SupportDeskApp) -> str:
    """The warning line as the agent sees it ("" while it is hidden)."""
    line = app.screen.query_one(PresenceLine)
    return str(line.render()) if line.display else ""


def sent_answers(desk: Desk, number: int) -> list[str]:
    return [m.text for m in desk.request(number).messages if m.agent_login == "anna"]


@pytest.mark.slow  # a console and a second desk: over 2 s
async def test_the_request_screen_shows_who_else_is_there_live(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    bob = _bob(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the top request, #3
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen) and app.screen.number == 3
        assert warning(app) == ""  # nobody else is there
        opened = clock.now().strftime("%H:%M")
        # anna's console said so: bob sees her
        assert [(p.agent, p.activity) for p in bob.presence.others(3, "bob")] == [
            ("anna", "viewing")
        ]

        line = app.screen.query_one(PresenceLine)
        clock.advance(timedelta(seconds=30))
        line.beat()  # what the 15 s interval does
        bob.presence.here(3, "bob", Activity.VIEWING)
        line.reread()  # what the interval and the data watch do
        await settle(pilot)
        since = clock.now().strftime("%H:%M")
        assert warning(app) == f"⚠ bob has it open since {since}"

        clock.advance(timedelta(seconds=30))
        line.beat()
        bob.presence.here(3, "bob", Activity.REPLYING)  # bob started answering
        app.check_for_changes()  # the data watch: bob's heartbeat is a write, it wakes it
        await settle(pilot)
        assert warning(app) == f"⚠ bob is replying since {clock.now().strftime('%H:%M')}"

        # anna's heartbeat keeps her there (since she opened it) past the 45 s a silent
        # console is forgotten after
        clock.advance(timedelta(seconds=40))
        line.beat()
        await settle(pilot)
        clock.advance(timedelta(seconds=40))
        assert [p.agent for p in bob.presence.others(3, "bob")] == ["anna"]
        assert bob.presence.others(3, "bob")[0].since.strftime("%H:%M") == opened
        clock.advance(timedelta(seconds=5))  # no heartbeat for 45 s: a crashed console
        assert bob.presence.others(3, "bob") == []
        line.beat()
        await settle(pilot)

        bob.presence.leave(3, "bob")
        line.reread()
        await settle(pilot)
        assert warning(app) == ""

        await pilot.press("escape")  # anna leaves: bob is told nothing any more
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert bob.presence.others(3, "bob") == []
    bob.close_database()


@pytest.mark.slow  # a console and a second desk: over 2 s
async def test_the_reply_screen_warns_and_sending_asks_first(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    bob = _bob(tmp_path, clock)
    bob.presence.here(3, "bob", Activity.REPLYING)
    since = clock.now().strftime("%H:%M")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert warning(app) == f"⚠ bob is replying since {since}"
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        assert warning(app) == f"⚠ bob is replying since {since}"
        # bob sees anna replying now (her reply screen said so), not just viewing
        assert [(p.agent, p.activity) for p in bob.presence.others(3, "bob")] == [
            ("anna", "replying")
        ]

        # the request screen under the reply screen keeps quiet: anna stays "replying"
        clock.advance(timedelta(seconds=15))
        for line in app.screen_stack[-2].query(PresenceLine):
            line.beat()
        await settle(pilot)
        assert [(p.agent, p.activity) for p in bob.presence.others(3, "bob")] == [
            ("anna", "replying")
        ]
        await pilot.press("escape")  # back to the request: viewing it again
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        assert [(p.agent, p.activity) for p in bob.presence.others(3, "bob")] == [
            ("anna", "viewing")
        ]
        bob.presence.here(3, "bob", Activity.REPLYING)
        await pilot.press("r")
        await settle(pilot)

        editor = app.screen.query_one("#editor", TextArea)
        editor.load_text("Open Settings → Export and pick Excel.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert app.screen.question == f"bob is replying since {since} — send anyway? y/n"
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)  # back in the editor, nothing sent
        assert app.screen.query_one("#editor", TextArea).text.startswith("Open Settings")
        assert sent_answers(desk, 3) == []

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert len(sent_answers(desk, 3)) == 1
        assert "Export" in sent_answers(desk, 3)[0]
        assert bob.presence.others(3, "bob") == []  # anna left the request when she sent
    bob.close_database()


async def test_someone_only_viewing_does_not_stop_a_send(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    bob = _bob(tmp_path, clock)
    bob.presence.here(3, "bob", Activity.VIEWING)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "r")
        await settle(pilot)
        assert "bob has it open since" in warning(app)
        app.screen.query_one("#editor", TextArea).load_text("Here is how.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)  # no question asked
        assert len(sent_answers(desk, 3)) == 1
    bob.close_database()


async def test_a_login_is_shown_as_plain_text(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    bob = make_desk(tmp_path, clock)
    bob.ensure_agent("[red]x")
    bob.presence.here(3, "[red]x", Activity.REPLYING)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert warning(app).startswith("⚠ [red]x is replying since")
    bob.close_database()


async def test_the_stack_marks_a_request_someone_else_is_replying_to(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from textual.widgets import DataTable

    desk = console_desk(tmp_path, clock)
    bob = _bob(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)

        def claimed(number: int) -> str:
            row = table.get_row(str(number))
            return str(row[list(table.columns).index("claimed")])

        assert claimed(3) == ""
        bob.presence.here(3, "bob", Activity.REPLYING)  # bob's reply screen is open on #3
        app.check_for_changes()  # his heartbeat is a write: the data watch wakes the stack
        await settle(pilot)
        assert claimed(3) == "✎bob"
        bob.presence.leave(3, "bob")
        app.check_for_changes()
        await settle(pilot)
        assert claimed(3) == ""
    bob.close_database()
