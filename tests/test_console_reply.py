"""The reply screen shows what is being answered and why a template was chosen (issue 16)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Label, Static, TextArea

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.ui import make_app
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.screens.reply import PICK_KEYS, ReplyScreen
from tests.fixtures import drop_into_maildir
from tests.mailfactory import make_mail
from tests.test_console import SIZE, console_desk, settle, utc  # noqa: F401 (utc: autouse)

UNRELATED = "Zebrafish quantum marmalade\n\nXylophone gazpacho tundra kumquat.\n"


def add_request(desk: Desk, folder: Path, clock: FrozenClock, subject: str, body: str) -> int:
    drop_into_maildir(
        folder,
        make_mail(
            sender="Eve Example <eve@example.com>",
            subject=subject,
            body=body,
            message_id=f"{subject[:5]}@example.com",
        ),
    )
    desk.fetch()
    clock.advance(timedelta(minutes=7))
    assert desk.request(4).request.subject == subject  # after console_desk's three
    return 4


async def open_reply(pilot: Pilot[None], number: int) -> ReplyScreen:
    await settle(pilot)
    pilot.app.reply_to(number)  # type: ignore[attr-defined]
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReplyScreen)
    return screen


def label_text(screen: ReplyScreen, selector: str) -> str:
    label = screen.query_one(selector, Label)
    return str(label.render()) if label.display else ""


async def test_the_preselected_suggestion_is_rendered_and_says_why(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    [chosen] = [s for s in desk.suggestions(2, "anna") if s.preselected]  # Dan: password reset
    rendered = desk.render_template(chosen.template.name, "anna", 2).text
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(pilot, 2)
        assert screen.query_one(TextArea).text == rendered
        why = label_text(screen, "#reply-template")
        assert f"suggested: {chosen.template.name}" in why
        if chosen.matched:
            assert f"matched: {', '.join(chosen.matched)}" in why
        assert label_text(screen, "#reply-suggestions") == ""  # the editor holds the answer


async def test_nothing_fits_the_editor_opens_empty(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    number = add_request(desk, tmp_path, clock, "Zebrafish", UNRELATED)
    suggestions = desk.suggestions(number, "anna")
    assert not any(s.preselected for s in suggestions)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(pilot, number)
        assert screen.query_one(TextArea).text == ""
        assert screen.template is None
        assert "no template fits well" in label_text(screen, "#reply-template")
        listed = label_text(screen, "#reply-suggestions")
        for suggestion in suggestions[:3]:
            assert suggestion.template.name in listed


async def test_a_weak_match_is_listed_not_preselected_and_its_key_uses_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    number = add_request(
        desk, tmp_path, clock, "A question", "Hello, a question about my account, please.\n"
    )
    suggestions = desk.suggestions(number, "anna")
    assert suggestions and not any(s.preselected for s in suggestions)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(pilot, number)
        assert screen.query_one(TextArea).text == ""
        listed = label_text(screen, "#reply-suggestions")
        for i, suggestion in enumerate(suggestions[:3], 1):
            assert f"{PICK_KEYS[i - 1]} {suggestion.template.name}" in listed
            for word in suggestion.matched:
                assert word in listed
        await pilot.press(PICK_KEYS[0])
        await settle(pilot)
        first = suggestions[0].template
        assert screen.template == first.name
        assert (
            screen.query_one(TextArea).text
            == desk.render_template(first.name, "anna", number, first.language).text
        )
        assert label_text(screen, "#reply-suggestions") == ""


async def test_the_latest_message_is_readable_at_80x24_and_never_markup(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="Dan Miller <dan@example.net>",
            subject="Re: Cannot log in",
            body="Still nothing [bold]arrives[/bold] in my inbox.\n\nDan\n",
            in_reply_to="dan.1@example.net",
        ),
    )
    desk.fetch()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_reply(pilot, 2)
        pane = screen.query_one("#reply-latest")
        editor = screen.query_one(TextArea)
        shown = str(screen.query_one("#reply-latest-text", Static).render())
        assert "Still nothing [bold]arrives[/bold] in my inbox." in shown  # literally
        assert "reset email never arrives" not in shown  # the latest, not the first
        assert pane.region.height >= 4 and editor.region.height >= 8
        assert pane.region.bottom <= editor.region.y  # above the editor at 80 columns
        assert screen.region.contains_region(pane.region)
        await pilot.resize_terminal(140, 40)
        await settle(pilot)
        assert pane.region.right <= editor.region.x  # beside it on a wide screen
        assert pane.region.y == editor.region.y


@pytest.mark.slow
async def test_the_quote_key_puts_the_latest_message_at_the_cursor(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    number = add_request(desk, tmp_path, clock, "Zebrafish", UNRELATED)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_reply(pilot, number)
        keys = [key for key, _, _, _ in screen.query_one(KeyBar).keys]
        assert "ctrl+o" in keys  # shown in the key bar
        await pilot.press(*"Hi Eve,")
        await pilot.press("ctrl+o")
        await pilot.press(*"Thanks")
        await settle(pilot)
        assert screen.query_one(TextArea).text == (
            "Hi Eve,\n"
            "> Zebrafish quantum marmalade\n"
            ">\n"
            "> Xylophone gazpacho tundra kumquat.\n"
            "Thanks"
        )
        assert desk.draft(number, "anna").text.startswith("Hi Eve,\n> Zebrafish")


async def test_a_preselected_template_that_cannot_render_says_so_and_opens_empty(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """A broken team template is not a silent empty editor: the agent reads which template
    failed, where, and what to do; the suggestions are listed to pick another."""
    from supportdesk.desk.templates import file_text

    desk = console_desk(tmp_path, clock)
    [chosen] = [s for s in desk.suggestions(2, "anna") if s.preselected]
    text = file_text(chosen.template)
    broken = text[: text.index("+++\n", 4) + 4] + "Hello {{ customer.nope }}\n"
    desk.add_template(chosen.template.name, broken, owner=None, language="en")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_reply(pilot, 2)
        assert screen.query_one(TextArea).text == ""
        [toast] = [n.message for n in app._notifications]
        assert f"template '{chosen.template.name}'" in toast
        assert "customer has no field 'nope'" in toast
        assert toast.endswith("pick another template or fix this one")
        assert chosen.template.name in label_text(screen, "#reply-suggestions")


async def test_the_latest_message_shows_its_attachments_as_the_request_screen_does(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """ "Here are the logs" is answered knowing the logs came: the pane is the request
    screen's own rendering of the message (warnings and attachments included)."""
    desk = console_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="Zoe Quinn <zoe@example.org>",
            subject="Logs from the crash",
            body="Here are the logs you asked for.",
            attachment=("crash [bold]log.txt", b"boom"),
        ),
    )
    desk.fetch()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reply(pilot, 4)
        shown = str(screen.query_one("#reply-latest-text", Static).render())
        assert "Here are the logs you asked for." in shown
        assert "📎 crash [bold]log.txt (" in shown  # as written, never markup


async def test_at_80_columns_the_key_bar_shows_send_attach_quote_and_editor(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """The editor's own ctrl+e came first and pushed attach off an 80-column bar: the reply
    screen's keys now show in its order, sends first, then what an answer is made with."""
    desk = console_desk(tmp_path, clock)
    number = add_request(desk, tmp_path, clock, "Zebrafish", UNRELATED)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_reply(pilot, number)
        shown = str(screen.query_one(KeyBar).render())
        assert shown.startswith("^s Send")
        for key in ("f8 Send+close", "f9 Send+snooze", "^t Template", "^f Attach", "^o Quote"):
            assert key in shown, shown
        assert "^e $EDITOR" in shown, shown
