"""The console as an agent uses it: Textual's pilot presses the keys, the desk is real."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static, TextArea
from textual.worker import WorkerCancelled, WorkerFailed

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.desk.templates import shipped_dir
from supportdesk.ui import make_app
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.modals.template_picker import TemplatePickerModal
from supportdesk.ui.screens.reply import ReplyScreen
from supportdesk.ui.screens.request import RequestScreen, ThreadView
from supportdesk.ui.screens.requests import RequestsScreen
from supportdesk.ui.screens.stack import StackScreen
from tests.fixtures import drop_into_maildir, imap_mailbox, make_desk
from tests.mailfactory import make_mail

SIZE = (120, 36)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Times on screen are local: the same on every machine for the snapshots."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def console_desk(folder: Path, clock: FrozenClock) -> Desk:
    """Three requests: Carol's refund (oldest), Dan's login, Мария's (newest, on top)."""
    desk = make_desk(folder, clock)
    desk.import_templates(shipped_dir())
    mails = [
        make_mail(
            sender="Carol Customer <carol@example.org>",
            subject="Charged twice",
            body="Hello,\n\nyou charged my card twice this month. I want my money back.\n\nCarol\n",
            message_id="carol.1@example.org",
        ),
        make_mail(
            sender="Dan Miller <dan@example.net>",
            subject="Cannot log in",
            body="I forgot my password and the reset email never arrives.\n\n> old quote 1\n"
            "> old quote 2\n> old quote 3\n",
            message_id="dan.1@example.net",
        ),
        make_mail(
            sender="Мария Петрова <maria@example.ru>",
            subject="Не могу выгрузить проект",
            body="Здравствуйте! Как выгрузить все данные проекта в Excel?\n",
            message_id="maria.1@example.ru",
        ),
    ]
    for mail in mails:
        drop_into_maildir(folder, mail)
        desk.fetch()
        clock.advance(timedelta(minutes=7))
    return desk


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no thread worker is left running and the screen has caught up. A load
    replaced by a newer one (a resize, a refresh) is cancelled: that is not a failure."""
    for _ in range(100):
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = pilot.app.screen
        loading = len(pilot.app.screen_stack) < 2 or (  # the app has not pushed its home yet
            isinstance(screen, StackScreen) and screen.shown is None
        )
        if not loading and all(w.is_finished for w in pilot.app.workers):
            await pilot.pause()
            return
    raise AssertionError("the console's workers never settled")


def thread_text(screen: RequestScreen) -> str:
    return "\n".join(str(view.render()) for view in screen.query("MessageView"))


def stack_numbers(pilot: Pilot[None]) -> list[int]:
    table = pilot.app.screen.query_one(DataTable)
    return [int(str(k.value)) for k in table.rows]


def replies(desk: Desk, number: int) -> list:  # type: ignore[type-arg]
    return [m for m in desk.request(number).messages if m.direction == "out" and m.kind == "reply"]


async def test_enter_opens_the_top_request_and_claims_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert stack_numbers(pilot) == [3, 2, 1]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen) and app.screen.number == 3
        thread = app.screen.query_one(ThreadView)
        assert "Excel" in str(thread.query("MessageView").first().render())
        assert desk.request(3).request.claimed_by == "anna"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert desk.request(3).request.claimed_by is None


async def test_a_request_the_cursor_rests_on_opens_at_once_and_catches_up(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")  # Dan's request, read ahead while the cursor rests on it
        for _ in range(40):
            if 2 in app.ahead:
                break
            await pilot.pause(0.05)
        desk.add_note(2, "Phoned him: he types his work address", "boris")  # after the read
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, RequestScreen) and screen.number == 2
        assert screen.read_ahead  # drawn whole at once from what was read
        assert "reset email never arrives" in thread_text(screen)
        await settle(pilot)
        assert "Phoned him" in thread_text(screen)  # and it is read again behind it


async def test_enter_right_after_typing_picks_what_was_typed(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """A fast typist's Enter can come before the search results: it waits for them."""
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "r", "ctrl+t")  # Carol's refund: other suggestions
        await settle(pilot)
        query = app.screen.query_one("#query", Input)
        query.value = "export"  # typed, and Enter queued behind it before the search is done
        await query.action_submit()
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        assert app.screen.template == "export-data"


async def test_the_stack_marks_follow_ups_and_overdue_first_answers(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    desk.reply(1, "The second charge is refunded.", "anna")
    clock.advance(timedelta(days=2))
    desk.tick()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stack_numbers(pilot) == [2, 3, 1]  # overdue first answers above the LIFO order
        table = app.screen.query_one(DataTable)
        reasons = {n: str(table.get_cell(str(n), "reason")) for n in (1, 2, 3)}
        assert reasons == {1: "follow-up 1", 2: "overdue", 3: "overdue"}


async def test_the_console_runs_the_tick_when_it_polls(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    desk.reply(1, "The second charge is refunded.", "anna")
    clock.advance(timedelta(days=2))
    app = make_app(desk, "anna", background=True)  # it holds the poller lease: nobody else
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.check_for_changes()
        await settle(pilot)
        assert 1 in stack_numbers(pilot)
        assert desk.request(1).request.reason == "follow_up"


async def test_a_click_on_a_key_in_the_footer_presses_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        start, _end, _key = next(span for span in bar.spans if span[2] == "f2")
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)


async def test_a_templated_answer_takes_five_keys_plus_the_search(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """From the stack: r (reply to the top), ctrl+t (templates), the letters, enter, ctrl+s."""
    desk = console_desk(tmp_path, clock)
    desk.close(3, "resolved", "anna")  # Dan's login problem is on top now
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        keys = ["r", "ctrl+t"]
        await pilot.press(*keys)
        await settle(pilot)
        assert isinstance(app.screen, TemplatePickerModal)
        letters = list("reset")
        await pilot.press(*letters)
        await settle(pilot)
        choices = app.screen.query_one("#choices", OptionList)
        first = app.screen.records[str(choices.get_option_at_index(0).id)]
        assert first.name == "password-reset"
        keys += ["enter"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        assert app.screen.query_one(TextArea).text.startswith("Hello Dan,")
        keys += ["ctrl+s"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(keys) <= 5
        [sent] = replies(desk, 2)
        assert sent.text.startswith("Hello Dan,") and "Forgot password?" in sent.text
        assert sent.status == "queued" and sent.in_reply_to == "dan.1@example.net"
        assert isinstance(app.screen, StackScreen)
        assert stack_numbers(pilot) == [1]  # answered: off the stack, Carol's is next
        [used] = [
            t for t in desk.templates("anna") if t.name == "password-reset" and t.language == "en"
        ]
        assert used.use_count == 1


async def test_the_suggested_answer_is_two_keys_away(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        text = app.screen.query_one(TextArea).text
        assert text.startswith("Здравствуйте, Мария!") and "Экспорт" in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        [sent] = replies(desk, 3)
        assert "Оцените" not in text  # the rating question is added when queued, not drafted
        [question] = [line for line in sent.text.split("\n") if line.startswith("Оцените")]
        assert sent.text.replace(f"{question}\n\n", "") == text.rstrip() + "\n"


async def test_closing_a_request_with_a_reason(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "c")
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # resolved, no_reply, idea
        await settle(pilot)
        request = desk.request(3).request
        assert (request.status, request.close_reason) == ("closed", "idea")
        assert isinstance(app.screen, StackScreen) and stack_numbers(pilot) == [2, 1]


async def test_the_empty_stack_says_so_with_todays_numbers(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    desk.reply(3, "Here is how to export.", "anna")
    for number in (1, 2):
        desk.close(number, "resolved", "anna")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        message = str(app.screen.query_one("#empty", Static).render())
        assert "The stack is empty" in message
        assert "3 received" in message and "1 answered" in message


async def test_take_next_skips_a_request_claimed_by_another_agent(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    desk.ensure_agent("bob", "Bob")
    assert desk.claim(3, "bob")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen) and app.screen.number == 2
        assert desk.request(3).request.claimed_by == "bob"


@pytest.mark.slow
async def test_a_draft_survives_closing_the_console(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        editor = app.screen.query_one(TextArea)
        editor.load_text("")
        await settle(pilot)
        await pilot.press(*"Half-written answer")
        await settle(pilot)
    again = make_app(desk, "anna", background=False)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert again.screen.query_one(TextArea).text == "Half-written answer"
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert desk.draft(3, "anna") is None
    sent = replies(desk, 3)[0].text
    assert sent.startswith("Half-written answer\n\nОцените")  # [csat] ask, in Russian


async def test_the_mailbox_going_down_and_coming_back(
    tmp_path: Path, clock: FrozenClock, pymap_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", pymap_server.password)
    desk = make_desk(tmp_path, clock, {"mailbox": imap_mailbox(pymap_server)})
    pymap_server.deliver([make_mail(sender="carol@example.org", subject="First")])
    app = make_app(desk, "anna", background=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.check_for_changes()
        await settle(pilot)
        assert "mail: checked" in app.sub_title and stack_numbers(pilot) == [1]
        pymap_server.stop()
        app.poll_mail()
        await settle(pilot)
        assert "retrying" in app.sub_title
        await pilot.press("enter")  # the console keeps working
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        await pilot.press("escape")
        pymap_server.start()
        pymap_server.deliver([make_mail(sender="dan@example.net", subject="Second")])
        app.poll_mail()
        await settle(pilot)
        app.check_for_changes()
        await settle(pilot)
        assert "mail: checked" in app.sub_title
        assert stack_numbers(pilot) == [2, 1]


async def test_hostile_mail_is_inert_text(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    hostile = "[bold red]markup[/] \x1b]0;pwned\x07 \x1b[31mred\x1b[0m \u202eevil\u202c"
    drop_into_maildir(tmp_path, make_mail(subject=hostile, body=hostile + "\n"))
    desk.fetch()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = app.screen.query_one(DataTable).get_row_at(0)
        subject = str(row[4])
        assert "[bold red]markup[/]" in subject
        assert "\x1b" not in subject and "\u202e" not in subject and "\x07" not in subject
        await pilot.press("enter")
        await settle(pilot)
        shown = str(app.screen.query("MessageView").first().render())
        assert "[bold red]markup[/]" in shown and "\x1b" not in shown and "\u202e" not in shown


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
def test_snapshot_stack(tmp_path: Path, clock: FrozenClock, snap_compare, theme: str) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    app.theme = theme

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_snapshot_request(tmp_path: Path, clock: FrozenClock, snap_compare) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.slow
def test_snapshot_reply_and_picker(tmp_path: Path, clock: FrozenClock, snap_compare) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("down", "r")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)

    picker_app = make_app(desk, "anna", background=False)

    async def picker(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("down", "r", "ctrl+t")
        await settle(pilot)
        await pilot.press(*"refund")
        await settle(pilot)

    assert snap_compare(picker_app, terminal_size=SIZE, run_before=picker)


def test_snapshot_empty_stack(tmp_path: Path, clock: FrozenClock, snap_compare) -> None:
    desk = console_desk(tmp_path, clock)
    for number in (1, 2, 3):
        desk.close(number, "resolved", "anna")
    app = make_app(desk, "anna", background=False)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


async def stack_within_a_second(pilot: Pilot[None]) -> list[int]:
    """What the stack shows once it changed, or after a second (real time: this is the
    refresh's own latency, not a time rule)."""
    before = stack_numbers(pilot)
    for _ in range(10):
        await pilot.pause(0.1)
        if stack_numbers(pilot) != before:
            break
    return stack_numbers(pilot)


async def test_another_agents_answer_leaves_this_stack_within_a_second(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=True)  # watching for changes, as in real use
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stack_numbers(pilot) == [3, 2, 1]
        other = make_desk(tmp_path, clock)  # bob's console, another connection to the file
        try:
            other.reply(3, "Answered by Bob.", "anna")
            assert await stack_within_a_second(pilot) == [2, 1]  # it looks twice a second
        finally:
            other.close_database()


async def test_on_postgresql_a_change_arrives_as_a_notification(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.databases import ON_POSTGRESQL

    if not ON_POSTGRESQL:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite consoles poll data_version")
    import supportdesk.ui.app as console_app

    monkeypatch.setattr(console_app, "REFRESH_EVERY", 3600.0)  # no polling to help
    desk = console_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert stack_numbers(pilot) == [3, 2, 1]
        other = make_desk(tmp_path, clock)
        try:
            other.reply(3, "Answered by Bob.", "anna")
            assert await stack_within_a_second(pilot) == [2, 1]
        finally:
            other.close_database()
