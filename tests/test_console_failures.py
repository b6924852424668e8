"""What the agent sees when something fails: every failed desk call is a toast of one line
saying what failed and why (never markup, never a silent no-op), and one row that cannot be
shown is listed as damaged instead of emptying the list. The failures are real: bad input
from a customer, another process changing the database, a folder that cannot be written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TextArea

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.ui import make_app
from supportdesk.ui.modals.convert import ConvertModal
from supportdesk.ui.modals.save_attachment import SaveAttachmentModal
from supportdesk.ui.screens.reply import ReplyScreen
from supportdesk.ui.screens.request import RequestScreen
from supportdesk.ui.screens.requests import RequestsScreen
from supportdesk.ui.screens.stack import StackScreen
from tests import databases
from tests.fixtures import drop_into_maildir
from tests.mailfactory import make_mail
from tests.test_console import SIZE, console_desk, settle, stack_numbers
from tests.test_console import utc as utc  # noqa: F401 - times on screen in UTC

UNWRITABLE_CUSTOMER = "Alex <a..b@example.org>"
"""An address intake keeps (it is how the customer wrote it) but no mail can be written to:
two dots in a row in the local part."""


def toasts(app: App[None]) -> list[str]:
    """The toasts on screen, as the agent reads them."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


def failures(app: App[None]) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


def delete_behind_the_consoles_back(folder: Path, number: int) -> None:
    """Another process removes request `number` while the console shows it, with foreign
    keys off as a hand-made repair does: its messages stay, the request is gone."""
    if databases.ON_POSTGRESQL:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        engine = create_engine(databases.database_url(folder), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("SET session_replication_role = replica"))  # no FK triggers
                conn.execute(text("DELETE FROM request WHERE id = :n"), {"n": number})
        finally:
            engine.dispose()
        return
    with sqlite3.connect(folder / "desk.db", timeout=30) as conn:  # foreign keys off by default
        conn.execute("DELETE FROM request WHERE id = ?", (number,))


async def the_one_line(pilot: Pilot[None], starts: str) -> str:
    """The toast that starts with `starts`: on screen, one line, and the only failure."""
    app = pilot.app
    for _ in range(20):  # a toast is mounted a moment after the notification
        if any(t.startswith(starts) for t in toasts(app)):
            break
        await pilot.pause()
    [line] = [t for t in toasts(app) if t.startswith(starts)]
    assert "\n" not in line
    assert failures(app) == [line]
    return line


async def open_top_request(pilot: Pilot[None]) -> RequestScreen:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RequestScreen)
    return screen


def unwritable_desk(folder: Path, clock: FrozenClock) -> Desk:
    desk = console_desk(folder, clock)
    drop_into_maildir(folder, make_mail(sender=UNWRITABLE_CUSTOMER, subject="Where is my order?"))
    desk.fetch()
    assert desk.stack()[0].customer_email == "a..b@example.org"  # #4, on top
    return desk


@pytest.mark.slow
async def test_a_reply_that_cannot_be_written_says_so_and_keeps_the_draft(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = unwritable_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        editor = app.screen.query_one(TextArea)
        editor.load_text("")
        await pilot.press(*"It ships today.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        line = await the_one_line(pilot, "Send failed: ")
        assert "cannot write to a..b@example.org" in line and "the draft is kept" in line
        assert isinstance(app.screen, ReplyScreen)  # the agent stays with the text
        assert app.screen.query_one(TextArea).text == "It ships today."
    assert [m for m in desk.request(4).messages if m.kind == "reply"] == []
    assert desk.draft(4, "anna") is not None


async def test_a_request_converted_for_a_customer_that_cannot_be_written_says_so(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = unwritable_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_top_request(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConvertModal)
        await pilot.press("enter")  # a new bug with the suggested title
        await settle(pilot)
        line = await the_one_line(pilot, "Converting #4 failed: ")
        assert "cannot write to a..b@example.org" in line
        assert isinstance(app.screen, RequestScreen)
    assert desk.items() == [] and desk.request(4).request.status == "new"


async def test_closing_a_request_deleted_meanwhile_says_so(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_top_request(pilot)
        delete_behind_the_consoles_back(tmp_path, 3)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")  # resolved
        await settle(pilot)
        line = await the_one_line(pilot, "Closing #3 failed: ")
        assert line == "Closing #3 failed: request #3 does not exist"


@pytest.mark.slow
async def test_a_note_on_a_request_deleted_meanwhile_says_so(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_top_request(pilot)
        delete_behind_the_consoles_back(tmp_path, 3)
        await pilot.press("o")
        await settle(pilot)
        await pilot.press(*"Phoned her", "enter")
        await settle(pilot)
        line = await the_one_line(pilot, "Note on #3 failed: ")
        assert "request #3 does not exist" in line


async def test_claiming_a_request_deleted_meanwhile_says_so(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_top_request(pilot)
        await pilot.press("U")  # release
        await settle(pilot)
        assert not screen.claimed and failures(app) == []
        delete_behind_the_consoles_back(tmp_path, 3)
        await pilot.press("U")  # claim again
        await settle(pilot)
        line = await the_one_line(pilot, "Claiming #3 failed: ")
        assert "request #3 does not exist" in line
        assert not screen.claimed


async def test_an_unknown_language_typed_into_l_says_so(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_top_request(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert app.screen.query_one(Input).value == "ru"
        await pilot.press("backspace", "backspace", *"russian", "enter")
        await settle(pilot)
        line = await the_one_line(pilot, "Language of #3 failed: ")
        assert "'russian'" in line and "use a code such as en or ru" in line
    assert desk.request(3).request.language == "ru"


async def test_saving_an_attachment_into_a_folder_that_cannot_be_written_says_so(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path, make_mail(subject="Screenshot", attachment=("screen.png", b"\x89PNG" * 100))
    )
    desk.fetch()
    # a file where the folder should be; the name has brackets a markup parser would eat
    blocked = tmp_path / "[bold red]saved"
    blocked.write_text("a file, not a folder")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_top_request(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SaveAttachmentModal)
        app.screen.query_one("#folder", Input).value = str(blocked / "here")
        await pilot.press("enter")  # the one attachment, highlighted
        await settle(pilot)
        line = await the_one_line(pilot, "Saving the attachment failed: ")
        assert f"{blocked}/here" in line  # the path as it is, brackets included
        assert line.endswith("— choose a folder you may write to")
        assert isinstance(app.screen, RequestScreen)


async def test_a_search_the_database_refuses_says_so(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    if desk.db.dialect != "sqlite":
        pytest.skip("PostgreSQL's search column is generated: it cannot be damaged apart")
    with desk.db.write() as conn:  # what a crash in the middle of a hand-made edit leaves
        conn.exec_driver_sql(
            "INSERT INTO message_fts(message_fts, rowid, subject, from_addr, from_name, text) "
            "VALUES ('delete', 1, 'x', 'y', 'z', 'w')"
        )
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
        await pilot.press(*"money", "enter")
        await settle(pilot)
        line = await the_one_line(pilot, "Search failed: ")
        assert "desk.db is damaged" in line and "supportdesk db check --repair" in line
        assert "SELECT" not in line  # the reason, never the statement


def cells_of(app: App[None]) -> dict[int, str]:
    table = app.screen.query_one(DataTable)
    return {
        int(str(key.value)): " ".join(str(cell) for cell in table.get_row(key) if str(cell))
        for key in table.rows
    }


async def test_a_row_that_cannot_be_shown_is_listed_as_damaged(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    if desk.db.dialect != "sqlite":
        pytest.skip("PostgreSQL's column types refuse the stored value this needs")
    # Dan's address stored as bytes (SQLite keeps any value in any column): the cell code
    # cannot make a sender of it
    with sqlite3.connect(tmp_path / "desk.db", timeout=30) as conn:
        conn.execute("UPDATE customer SET email = x'00ff' WHERE email = 'dan@example.net'")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert stack_numbers(pilot) == [3, 2, 1]  # the other rows stay
        rows = cells_of(app)
        assert rows[2].startswith("#2 ⚠ cannot be shown: TypeError")
        assert "Мария Петрова" in rows[3] and "Carol Customer" in rows[1]
        await pilot.press("f2")
        await settle(pilot)
        rows = cells_of(app)
        assert sorted(rows) == [1, 2, 3]
        assert rows[2].startswith("#2 ⚠ cannot be shown: TypeError")
        assert "Charged twice" in rows[1]
