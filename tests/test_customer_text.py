"""Customer text is data everywhere (issue 14): a file name, a subject or a body never reads as
markup, never carries escapes onto the screen, and its size costs the console, the CLI and
search a bounded amount of work."""

from __future__ import annotations

import ast
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, Log, OptionList
from textual.widgets._toast import Toast

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.store.messages import SNIPPET_SCAN
from supportdesk.ui import make_app
from supportdesk.ui.app import SupportDeskApp
from supportdesk.ui.modals.save_attachment import SaveAttachmentModal
from supportdesk.ui.screens.fulltext import FullTextScreen
from supportdesk.ui.screens.request import SHOW_ALL_KEY, RequestScreen
from supportdesk.ui.screens.requests import RequestsScreen
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail
from tests.test_console import SIZE, settle, thread_text, utc  # noqa: F401 - utc: a fixture

UI = Path(__file__).resolve().parent.parent / "supportdesk" / "ui"
NAMES = ["[a==x.pdf", "[bold]x[/bold].pdf", "[b]report.pdf"]
"""The first crashed the console; the second is kept as "bold].pdf" (a name is cut at its last
slash: safe_filename); the third was shown as "report.pdf"."""


def big_body(size: int = 1_990_000) -> str:
    """About 2 MB (intake keeps 2,000,000 characters of a text): a pasted log, its last line
    different from the others."""
    lines = []
    total = 0
    n = 0
    while total < size - 100:
        line = f"2026-01-05 08:00:{n % 60:02d} INFO worker-{n % 7} hello: invoice {n} exported\n"
        lines.append(line)
        total += len(line)
        n += 1
    return "".join(lines) + "THE LAST LINE zebrafinch\n"


# -- one function before Rich/Textual -------------------------------------------------------


def test_every_toast_and_title_goes_through_plain_text() -> None:
    """The app's own `notify` (a screen's `notify` calls it) and `format_title` make every
    toast and title plain: no code in the console shows a toast or a title around them."""
    assert SupportDeskApp.notify is not App.notify
    assert SupportDeskApp.format_title is not App.format_title
    for method in (SupportDeskApp.notify, SupportDeskApp.format_title):
        source = ast.unparse(ast.parse(_source(method)))
        assert "plain(" in source, method
    assert "markup=False" in _source(SupportDeskApp.notify)
    offenders = []
    for path in UI.rglob("*.py"):
        text = path.read_text()
        for pattern in (r"markup\s*=\s*True", r"\bToast\(", r"Notification\(", r"App\.notify"):
            if re.search(pattern, text):
                offenders.append(f"{path.name}: {pattern}")
        for line in text.splitlines():  # a notify() that reaches past the app's own
            if "notify" in line and "super().notify" in line and path.name != "app.py":
                offenders.append(f"{path.name}: {line.strip()}")
    assert offenders == []


def _source(function: Any) -> str:
    import inspect
    import textwrap

    return textwrap.dedent(inspect.getsource(function))


async def test_a_toast_shows_markup_and_escapes_as_plain_text(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.screen.notify("[a==x.pdf \x1b]0;owned\x07[bold]b[/bold]\u202e", title="[red]t")
        await pilot.pause()
        [toast] = list(app._notifications)
        assert (toast.message, toast.title, toast.markup) == (
            "[a==x.pdf [bold]b[/bold]",
            "[red]t",
            False,
        )
        [drawn] = app.screen.query(Toast)
        assert str(drawn.render()) == "[red]t\n[a==x.pdf [bold]b[/bold]"
        app.mail_status = "mail: [bold]down\x1b[31m"
        app._show_status()
        await pilot.pause()
        assert str(app.format_title(app.title, app.sub_title)).endswith("mail: [bold]down")
    desk.close_database()


# -- saving an attachment -------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
async def test_saving_an_attachment_named_like_markup_shows_the_exact_path(
    tmp_path: Path, clock: FrozenClock, name: str
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(body="Here it is.", attachment=(name, b"%PDF-1.4\n")))
    desk.fetch()
    [attachment] = desk.request(1).messages[0].attachments
    stored = attachment.filename
    assert stored == name.rpartition("/")[2]
    target = tmp_path / "saved"
    target.mkdir()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.open_request(1)
        await settle(pilot)
        assert f"📎 {stored} (" in thread_text(app.screen)  # type: ignore[arg-type]
        await pilot.press("s")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, SaveAttachmentModal)
        assert stored in str(modal.query_one(OptionList).get_option_at_index(0).prompt)
        modal.query_one("#folder", Input).value = str(target)
        modal.query_one(OptionList).focus()
        modal.query_one(OptionList).highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        saved = target / stored
        assert saved.read_bytes() == b"%PDF-1.4\n"
        assert [n.message for n in app._notifications] == [f"Saved {saved}"]
        await pilot.pause()
        [toast] = app.screen.query(Toast)  # as drawn: once a MarkupError here
        assert str(toast.render()).replace("\n", "") == f"Saved {saved}"
        assert isinstance(app.screen, RequestScreen)  # the console is still there
    desk.close_database()


async def test_an_attachment_is_saved_into_the_configured_data_dir_with_enter(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """`desk.data_dir` (relative to config.toml) is the folder the console offers: choosing
    the attachment and pressing enter saves it there, a folder made if need be."""
    desk = make_desk(tmp_path, clock, {"desk": {"data_dir": "saved/attachments"}})
    drop_into_maildir(tmp_path, make_mail(body="Logs.", attachment=("trace.log", b"boom\n")))
    desk.fetch()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.open_request(1)
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, SaveAttachmentModal)
        folder = tmp_path / "saved" / "attachments"
        assert modal.query_one("#folder", Input).value == str(folder)
        modal.query_one(OptionList).focus()
        modal.query_one(OptionList).highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert (folder / "trace.log").read_bytes() == b"boom\n"
        assert [n.message for n in app._notifications] == [f"Saved {folder / 'trace.log'}"]
    desk.close_database()


# -- a 2 MB body ----------------------------------------------------------------------------


@pytest.mark.slow
async def test_a_huge_body_is_shown_cut_with_a_key_that_shows_it_all(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    body = big_body()
    assert len(body) > 1_900_000
    drop_into_maildir(tmp_path, make_mail(subject="Log", body=body))
    desk.fetch()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_request(1)
        await settle(pilot)
        shown = thread_text(app.screen)  # type: ignore[arg-type]
        assert "hello: invoice 0 exported" in shown
        assert "zebrafinch" not in shown
        note = re.search(
            r"… ([\d,]+) more lines \(([\d,]+) characters\): press m to show all", shown
        )
        assert note is not None, shown[-500:]
        assert len(shown) < 20_000
        head_lines = shown.count("hello: invoice")
        assert int(note[1].replace(",", "")) == body.count("\n") - head_lines
        await pilot.press(SHOW_ALL_KEY)
        await settle(pilot)
        assert isinstance(app.screen, FullTextScreen)
        log = app.screen.query_one(Log)
        assert "THE LAST LINE zebrafinch" in log.lines
        assert log.line_count > body.count("\n")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
    desk.close_database()


def test_requests_show_prints_a_huge_body_whole_and_plain(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Each line as it was (Rich wrapped a 2 MB body at the width, which took seconds), its
    escapes still removed."""
    from typer.testing import CliRunner

    from supportdesk.cli import app as cli
    from supportdesk.cli import requestcmds  # noqa: F401 - registers the commands

    long_line = "word " * 60  # 300 characters: wider than any terminal's default
    body = (
        big_body(1_900_000)
        + (long_line + "\n") * 3
        + "red \x1b[31malert\x1b[0m [bold]not bold[/bold]\n"
    )
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(subject="Log", body=body))
    desk.fetch()
    desk.close_database()
    shown = CliRunner().invoke(
        cli.app, ["--config", str(tmp_path / "config.toml"), "requests", "show", "1"]
    )
    assert shown.exit_code == 0, shown.output
    lines = [line.rstrip() for line in shown.stdout.splitlines()]
    assert lines.count(long_line.rstrip()) == 3
    assert "THE LAST LINE zebrafinch" in shown.stdout
    assert "red alert [bold]not bold[/bold]" in shown.stdout
    assert "\x1b" not in shown.stdout


# -- search ---------------------------------------------------------------------------------


def test_a_snippet_is_cut_from_the_start_of_a_huge_text(tmp_path: Path, clock: FrozenClock) -> None:
    """The index finds the word anywhere; the snippet is cut from the first SNIPPET_SCAN
    characters only, so a 2 MB message costs a search what a short one does."""
    desk = make_desk(tmp_path, clock)
    body = big_body()
    at = body.index("\n", 50_000) + 1  # both indexes hold it (PostgreSQL's the first 100,000)
    body = body[:at] + "a kingfisher flew by\n" + body[at:]
    assert body.index("kingfisher") > SNIPPET_SCAN
    drop_into_maildir(
        tmp_path,
        make_mail(subject="Log", body=body),
        make_mail(subject="Short", body="Hello,\n\nthe invoice of order 7 shows the wrong amount."),
    )
    desk.fetch()
    [hit] = desk.search("kingfisher")
    assert hit.subject == "Log"
    assert hit.snippet.startswith("2026-01-05 08:00:00 INFO")
    assert hit.snippet.endswith(" … ")
    assert len(hit.snippet) < 200
    hits = {h.subject: h.snippet for h in desk.search("invoice", limit=200)}
    assert set(hits) == {"Log", "Short"}
    assert "invoice" in hits["Log"] and len(hits["Log"]) < 200
    assert "the invoice of order 7 shows the wrong amount" in hits["Short"]
    desk.close_database()


class Gate:
    """Desk.search as the console calls it, held until the test lets it go: a search that is
    still running when the desk changes or the agent asks something else."""

    def __init__(self, desk: Desk) -> None:
        self.search = desk.search
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.queries: list[str] = []

    def __call__(self, query: str, limit: int = 50) -> Any:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.queries.append(query)
        try:
            self.open.wait(30)
            return self.search(query, limit)
        finally:
            with self.lock:
                self.running -= 1


async def test_a_running_search_is_never_run_twice_and_a_new_query_replaces_its_result(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path,
        make_mail(subject="Refund please", body="I want a refund for order 5."),
        make_mail(subject="Cannot log in", body="My password is not accepted."),
    )
    desk.fetch()
    gate = Gate(desk)
    desk.search = gate  # type: ignore[method-assign]
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RequestsScreen)
        screen.query_one("#search", Input).value = "refund"
        await pilot.press("enter")
        await pilot.pause()
        for _ in range(5):  # the desk changes: what check_for_changes does for each change
            app.reload_screen()
            await pilot.pause()
        assert gate.queries == ["refund"]
        screen.query_one("#search", Input).value = "password"
        await pilot.press("enter")  # a new query while the first still runs
        await pilot.pause()
        for _ in range(3):
            app.reload_screen()
            await pilot.pause()
        assert gate.queries == ["refund", "password"]
        gate.open.set()
        await settle(pilot)
        table = screen.query_one("#results", DataTable)
        rows = [" ".join(str(c) for c in table.get_row(key)) for key in table.rows]
        assert len(rows) == 1 and "Cannot log in" in rows[0]  # never the first query's result
        # the live refresh asked while "password" ran: one more search, after it
        assert gate.queries == ["refund", "password", "password"]
        assert gate.most <= 2  # the replaced one, and the new query
    desk.close_database()
