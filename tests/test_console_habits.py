"""mutt/aerc habits in the console (issue 20): q back and quit, gg/G/Home/End, ctrl+l,
search in a thread, the raw message, the cursor following the top, and `?`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
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


@pytest.mark.slow
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


@pytest.mark.slow
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


def long_thread_desk(folder: Path, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """One request: a long first mail with "needle" near its start and its end, then a
    short second one with "NEEDLE" and markup-looking text."""
    from tests.fixtures import drop_into_maildir, make_desk
    from tests.mailfactory import make_mail

    desk = make_desk(folder, clock)
    lines = [f"line {i} of the log" for i in range(120)]
    lines[3] = "first needle here"
    lines[110] = "second needle here"
    drop_into_maildir(
        folder,
        make_mail(
            subject="Export fails", body="\n".join(lines) + "\n", message_id="long.1@example.org"
        ),
    )
    desk.fetch()
    clock.advance(timedelta(minutes=5))
    drop_into_maildir(
        folder,
        make_mail(
            subject="Re: Export fails",
            body="[bold red]NEEDLE[/] \x1b[31mstill\x1b[0m broken\n",
            message_id="long.2@example.org",
            in_reply_to="long.1@example.org",
        ),
    )
    desk.fetch()
    return desk


def in_sight(thread: ThreadView, view, line: int) -> bool:  # type: ignore[no-untyped-def]
    y = view.virtual_region.y + line
    return thread.scroll_y <= y < thread.scroll_y + thread.scrollable_content_region.height


@pytest.mark.slow
async def test_find_in_a_thread_highlights_and_n_N_go_from_match_to_match(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from supportdesk.ui.find import FindBar

    desk = long_thread_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RequestScreen)
        thread = screen.query_one(ThreadView)
        views = list(screen.query("MessageView"))
        first = next(v for v in views if "first needle" in str(v.render()))
        second = next(v for v in views if "NEEDLE" in str(v.render()))
        await pilot.press("slash")
        bar = screen.query_one(FindBar)
        assert bar.display and bar.has_focus
        await pilot.press(*"needle", "enter")
        await settle(pilot)
        assert len(screen.finder.matches) == 3  # case-insensitive, in both messages
        assert screen.finder.status().startswith("“needle”: 1 of 3")
        shown = first.render()
        styles = {(s.start, s.end): str(s.style) for s in shown.spans}  # type: ignore[union-attr]
        start = str(shown).index("needle")
        assert "on ansi_bright_green" in styles.get((start, start + 6), "")  # current
        assert in_sight(thread, first, 4)  # the first match scrolled into view
        await pilot.press("n")
        assert screen.finder.current == 1
        assert in_sight(thread, first, 112)
        assert not in_sight(thread, first, 4)
        await pilot.press("n")
        shown = second.render()
        assert "[bold red]NEEDLE[/]" in str(shown)  # the mail's markup stays text
        assert "\x1b" not in str(shown)
        styles = {(s.start, s.end): str(s.style) for s in shown.spans}  # type: ignore[union-attr]
        start = str(shown).index("NEEDLE")
        assert "on ansi_bright_green" in styles.get((start, start + 6), "")  # current
        await pilot.press("n")  # round again to the first
        assert screen.finder.current == 0
        await pilot.press("N")
        assert screen.finder.current == 2
        await pilot.press("N")
        assert screen.finder.current == 1
        shown = second.render()
        styles = {(s.start, s.end): str(s.style) for s in shown.spans}  # type: ignore[union-attr]
        assert "on ansi_yellow" in styles.get((start, start + 6), "")  # a match, not current
        await pilot.press("escape")  # closes the bar, not the screen
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        assert not bar.display
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
    desk.close_database()


@pytest.mark.slow
async def test_gg_and_G_scroll_the_thread(tmp_path: Path, clock: FrozenClock) -> None:
    desk = long_thread_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        thread = app.screen.query_one(ThreadView)
        await pilot.press("g", "g")
        await pilot.pause()
        assert thread.scroll_y == 0
        await pilot.press("G")
        await pilot.pause()
        assert thread.scroll_y == thread.max_scroll_y > 0
        await pilot.press("home")
        await pilot.pause()
        assert thread.scroll_y == 0
        await pilot.press("end")
        await pilot.pause()
        assert thread.scroll_y == thread.max_scroll_y
    desk.close_database()


@pytest.mark.slow
async def test_H_shows_the_raw_message_with_controls_made_visible(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from textual.widgets import Log

    from supportdesk.ui.screens.fulltext import FullTextScreen

    desk = long_thread_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("H")  # as the request opens: its last message
        await settle(pilot)
        assert isinstance(app.screen, FullTextScreen)
        last = desk.request(1).messages[-1].message_id
        source = "\n".join(app.screen.query_one(Log).lines)
        assert f"Message-ID: <{last}>" in source.replace("Message-Id", "Message-ID")
        await pilot.press("q")
        await settle(pilot)
        await pilot.press("slash", *"still", "enter", "H")  # the message of the match
        await settle(pilot)
        source = "\n".join(app.screen.query_one(Log).lines)
        assert "Message-ID: <long.2@example.org>" in source
        assert "In-Reply-To: <long.1@example.org>" in source
        assert "[bold red]NEEDLE[/] ␛[31mstill␛[0m broken" in source
        assert "\x1b" not in source
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        await pilot.press("escape", "g", "g", "H")  # no find: the message at the top of the view
        await settle(pilot)
        source = "\n".join(app.screen.query_one(Log).lines)
        assert "Message-ID: <long.1@example.org>" in source
        assert "second needle here" in source
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
    desk.close_database()


async def test_the_cursor_follows_the_top_when_new_mail_arrives(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from tests.fixtures import drop_into_maildir, make_desk
    from tests.mailfactory import make_mail
    from tests.test_console import stack_within_a_second

    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=True)  # watching for changes, as in real use
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stack_numbers(pilot) == [3, 2, 1] and cursor_number(app) == 3
        other = make_desk(tmp_path, clock)  # mail fetched by another console
        try:
            drop_into_maildir(tmp_path, make_mail(subject="Where is my order?"))
            other.fetch()
            assert await stack_within_a_second(pilot) == [4, 3, 2, 1]
            await settle(pilot)
            assert cursor_number(app) == 4  # on top, the cursor stays on top
            await pilot.press("j")  # on #3: away from the top, the cursor stays on its row
            assert cursor_number(app) == 3
            drop_into_maildir(tmp_path, make_mail(subject="Invoice", sender="x@example.com"))
            other.fetch()
            assert await stack_within_a_second(pilot) == [5, 4, 3, 2, 1]
            await settle(pilot)
            assert cursor_number(app) == 3
        finally:
            other.close_database()
    desk.close_database()


def help_shown(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#help-text").render())


@pytest.mark.slow
async def test_question_mark_explains_the_keys_by_screen_and_the_marks(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from supportdesk.ui.screens.help import HelpScreen

    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # from the request screen: its keys first
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = help_shown(app)
        assert text.index("Request\n") < text.index("Stack\n")
        for line in (
            "H               Raw message",  # hidden keys too
            "/               Find",
            "n               Next match",
            "gg / home       Top",
            "G / end         Bottom",
            "z               Quotes",
            "esc / q         Back",
            "ctrl+l          Refresh",
            "f6              Review",
            "follow-up 1, 2  no answer from the customer",
            "won't do        the linked bug or idea will not be done",
            "overdue         its first answer is late",
            "linked          waiting on a bug, idea or story",
            "!! ! ↓          priority before the subject",
            "→bob            assigned to someone else",
            "returned        your letter came back",
            "snoozed         its snooze ended",
            "bounced         delivery failed",
        ):
            assert line in text, line
        await pilot.press("G")  # a long page: it scrolls
        await pilot.press("question_mark")  # ? closes it again
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        for key in ("q", "escape"):
            await pilot.press("question_mark")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, RequestScreen)
    desk.close_database()


async def test_help_shows_the_keys_as_the_keymap_remaps_them(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from tests.fixtures import write_config

    console_desk(tmp_path, clock).close_database()

    write_config(tmp_path, {"keymap": {"stack.reply": "R", "request.raw": "ctrl+u"}})
    import tomllib

    from supportdesk.config import parse_settings
    from supportdesk.desk import open_desk

    path = tmp_path / "config.toml"
    desk = open_desk(parse_settings(tomllib.loads(path.read_text()), path), clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = help_shown(app)
        stack = text[text.index("Stack\n") : text.index("Request\n")]
        assert "R               Reply" in stack and "r               Reply" not in stack
        assert "ctrl+u          Raw message" in text
    desk.close_database()


def test_snapshot_help_80x24(tmp_path: Path, clock: FrozenClock, snap_compare) -> None:  # type: ignore[no-untyped-def]
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)

    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


@pytest.mark.slow
async def test_q_closes_a_dialog_but_is_a_letter_where_one_types(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from textual.screen import ModalScreen

    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        for key in ("c", "p"):  # close reasons, priorities: lists
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, ModalScreen)
            await pilot.press("q")
            await settle(pilot)
            assert isinstance(app.screen, RequestScreen)
        await pilot.press("o")  # a note: typed
        await settle(pilot)
        assert isinstance(app.screen, ModalScreen)
        await pilot.press(*"quite")
        assert app.screen.query_one(Input).value == "quite"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
    assert desk.request(3).request.status == "new"
    desk.close_database()


async def test_the_full_text_view_keeps_blank_lines(tmp_path: Path, clock: FrozenClock) -> None:
    """The raw message (H) and the whole thread (m) keep a mail's blank lines: between the
    headers and the body, and between paragraphs."""
    from textual.widgets import Log

    from supportdesk.ui.screens.fulltext import FullTextScreen

    app = make_app(console_desk(tmp_path, clock), "anna", background=False)
    async with app.run_test() as pilot:
        await settle(pilot)
        app.push_screen(FullTextScreen("raw", "Subject: Hi\n\nHello,\n\nthe export fails."))
        await settle(pilot)
        lines = [line.strip() for line in app.screen.query_one(Log).lines]
        assert lines == ["Subject: Hi", "", "Hello,", "", "the export fails."]
