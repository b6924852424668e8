"""Only the right mail goes out, in the console (issue 14, bullet 4): ctrl+g saves a
template's source under a name of its own, people in Cc are shown and can be dropped, the
picker offers no item template outside its flow, and `b` on a linked request asks before
moving it. Textual's pilot presses the keys; the desk is real."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Label, OptionList, TextArea

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.ui import make_app
from supportdesk.ui.modals.template_picker import TemplatePickerModal
from supportdesk.ui.modals.text_input import TextInputModal
from supportdesk.ui.screens.reply import ReplyScreen
from supportdesk.ui.screens.request import RequestScreen
from tests.fixtures import drop_into_maildir
from tests.mailfactory import make_mail
from tests.test_console import SIZE, console_desk, settle, thread_text


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def carols_refund_on_top(folder: Path, clock: FrozenClock) -> Desk:
    """Carol's "Charged twice" (#1) on top: the team's `refund` is suggested for it."""
    desk = console_desk(folder, clock)
    for number in (3, 2):
        desk.close(number, "resolved", "anna")
    return desk


def personal(desk: Desk, name: str) -> list[str]:
    return [r.body for r in desk.templates("anna") if r.name == name and r.scope == "personal"]


def modal_title(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    return str(screen.query(Label).first().render())


async def test_ctrl_g_saves_the_templates_source_under_a_new_name(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = carols_refund_on_top(tmp_path, clock)
    team_refund = desk.template("refund", "anna", "en").body
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.query_one(TextArea).text.startswith("Hello Carol,")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, TextInputModal)
        assert "placeholders kept" in modal_title(app)
        assert app.screen.query_one(Input).value == "refund-2"  # never the team's name
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
    [saved] = personal(desk, "refund-2")
    assert saved == team_refund and "{{ customer.first_name }}" in saved
    assert "Carol" not in saved
    assert desk.template("refund", "anna").scope == "team"  # nothing shadowed


@pytest.mark.slow
async def test_ctrl_g_on_edited_text_warns_and_an_existing_name_needs_a_yes(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = carols_refund_on_top(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("end", *" Sorry again!")
        await settle(pilot)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert "saved as it is, greeting and names included" in modal_title(app)
        field = app.screen.query_one(Input)
        assert field.value == "refund-2"
        field.value = "refund"  # the agent types the team's name
        await pilot.press("enter")
        await settle(pilot)
        assert "The team's template 'refund' exists" in modal_title(app)
        await pilot.press("enter")  # an accidental Enter is no answer
        await settle(pilot)
        assert "exists" in modal_title(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        assert personal(desk, "refund") == []
        assert desk.template("refund", "anna").scope == "team"

        await pilot.press("ctrl+g")
        await settle(pilot)
        app.screen.query_one(Input).value = "refund"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    [saved] = personal(desk, "refund")
    assert saved.startswith("Hello Carol,") and "Sorry again!" in saved  # as it was written


@pytest.mark.slow
async def test_cc_is_shown_kept_and_can_be_dropped(tmp_path: Path, clock: FrozenClock) -> None:
    desk = console_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="Carol Customer <carol@example.org>",
            subject="Re: Charged twice",
            body="My accountant Bob is in copy.\n",
            in_reply_to="carol.1@example.org",
            headers={"Cc": "Bob Boss <bob@example.org>, support@example.com"},
        ),
    )
    desk.fetch()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_request(1)
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        assert "Cc bob@example.org, support@example.com" in thread_text(app.screen)
        await pilot.press("r")
        await settle(pilot)
        cc = app.screen.query_one("#reply-cc", Label)
        assert "Cc bob@example.org" in str(cc.render()) and "support@" not in str(cc.render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        [sent] = [m for m in desk.request(1).messages if m.kind == "reply"]
        assert sent.cc == ["bob@example.org"]

        app.open_request(1)
        await settle(pilot)
        assert "Cc bob@example.org" in thread_text(app.screen).split("Sent by")[-1]
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "Cc dropped" in str(app.screen.query_one("#reply-cc", Label).render())
        app.screen.query_one(TextArea).load_text("Only for you, Carol.")
        await pilot.press("ctrl+s")
        await settle(pilot)
    last = [m for m in desk.request(1).messages if m.kind == "reply"][-1]
    assert last.text.startswith("Only for you") and last.cc == []


async def test_the_picker_offers_item_templates_only_in_their_flow(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = carols_refund_on_top(tmp_path, clock)
    desk.add_template("idea_thanks", "Thanks for idea #{{ item.number }}!", owner=None)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r", "ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, TemplatePickerModal)

        def listed() -> set[str]:
            return {r.name for r in app.screen.records.values()}  # type: ignore[attr-defined]

        assert "refund" in listed() and "idea_thanks" not in listed()
        for query in ("idea", "fixed", "bug"):
            app.screen.query_one(Input).value = query
            await settle(pilot)
            assert not listed() & {"idea_thanks", "fixed_notice", "bug_ack"}, (query, listed())


@pytest.mark.slow
async def test_b_on_a_linked_request_asks_before_moving_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    desk.convert(3, "bug", "anna", title="Export to Excel")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_request(3)
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("ctrl+t")  # an idea, not a bug
        await pilot.press("enter")
        await settle(pilot)
        assert modal_title(app).startswith("#3 is linked to bug #1. Move it to a new idea?")
        await pilot.press("enter")  # no accidental yes
        await settle(pilot)
        assert desk.request(3).request.item == 1
        await pilot.press("y")
        await settle(pilot)
    request = desk.request(3).request
    assert (request.item, request.status) == (2, "closed")
    assert desk.item(1).item.customers == 0
    sent = [m for m in desk.request(3).messages if m.kind == "reply"]
    assert len(sent) == 2 and "идею" in sent[1].text and "#2" in sent[1].text  # one for the move


async def test_b_and_escape_leave_a_linked_request_where_it_was(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = console_desk(tmp_path, clock)
    desk.convert(3, "bug", "anna", title="Export to Excel")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_request(3)
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        choices = app.screen.query(OptionList)
        assert choices  # back in the convert dialog, nothing done
    assert desk.request(3).request.item == 1 and len(desk.items()) == 1
