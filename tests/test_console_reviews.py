"""Trainees' letters in the console (issue 19): the mentor's review screen (f6), the header's
count, and the trainee's side (the held toast, the request waiting for review, the returned
comment above the draft). Textual's pilot presses the keys; the desk is real."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, Static, TextArea

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.domain.records import HeldLetter
from supportdesk.ui import make_app
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.screens.reply import ReplyScreen
from supportdesk.ui.screens.request import RequestScreen
from supportdesk.ui.screens.requests import RequestsScreen
from supportdesk.ui.screens.reviews import EditLetterModal, ReviewsScreen
from supportdesk.ui.screens.stack import StackScreen
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail
from tests.test_console import SIZE, settle

NARROW = (80, 24)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def review_desk(folder: Path, clock: FrozenClock) -> Desk:
    """Ann's printer is on fire (#1); tom (trainee of mia) has answered it, held for review."""
    desk = make_desk(folder, clock)
    desk.ensure_agent("mia", name="Mia Mentor")
    desk.ensure_agent("tom", name="Tom Trainee")
    desk.set_training("tom", True, "mia")
    drop_into_maildir(
        folder,
        make_mail(
            sender="Ann Smith <ann@example.org>",
            subject="Printer on fire",
            body="Hello,\n\nmy printer is on fire. What do I do?\n\nAnn\n",
            message_id="ann.1@example.org",
        ),
    )
    desk.fetch()
    clock.advance(timedelta(minutes=3))
    return desk


def replies(desk: Desk, number: int) -> list[str]:
    return [
        m.text for m in desk.request(number).messages if m.direction == "out" and m.kind == "reply"
    ]


def toasts(pilot: Pilot[None]) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


def text_of(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def open_reviews(pilot: Pilot[None]) -> ReviewsScreen:
    await settle(pilot)
    await pilot.press("f6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewsScreen)
    return screen


async def test_a_mentor_approves_from_f6_and_one_letter_is_queued(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = review_desk(tmp_path, clock)
    held = desk.reply(1, "Please unplug it and call the fire brigade.", "tom")
    assert isinstance(held, HeldLetter)
    clock.advance(timedelta(minutes=12))
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reviews(pilot)
        table = screen.query_one("#reviews", DataTable)
        assert table.row_count == 1
        row = [str(c) for c in table.get_row_at(0)]
        assert row[:3] == ["#1", "tom", "12m"]
        assert "Printer on fire" in row[3]
        # the letter beside the customer's message
        assert "my printer is on fire" in text_of(pilot, "#review-customer-text")
        assert "call the fire brigade" in text_of(pilot, "#review-letter-text")

        await pilot.press("a")
        await settle(pilot)
        assert "Approved: queued to ann@example.org as tom's answer" in toasts(pilot)
        assert screen.query_one("#reviews", DataTable).row_count == 0
    sent = replies(desk, 1)
    assert len(sent) == 1 and "call the fire brigade" in sent[0]
    assert desk.reviews.get(held.review_id).state == "approved"


async def test_a_mentor_edits_then_approves_and_the_customer_gets_the_edit(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = review_desk(tmp_path, clock)
    held = desk.reply(1, "Dunno, buy a new one.", "tom")
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_reviews(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EditLetterModal)
        editor = app.screen.query_one(TextArea)
        assert editor.text == "Dunno, buy a new one."
        editor.load_text("Unplug it first, then use a CO2 extinguisher.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReviewsScreen)
        assert any("Edited and approved: queued to ann@example.org" in t for t in toasts(pilot))
    sent = replies(desk, 1)
    assert len(sent) == 1 and "CO2 extinguisher" in sent[0] and "Dunno" not in sent[0]

    # the trainee sees what was changed in "My letters"
    app = make_app(desk, "tom", background=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reviews(pilot)
        assert screen.mine
        row = [str(c) for c in screen.query_one("#reviews", DataTable).get_row_at(0)]
        assert row[2] == "edited"
        letter = text_of(pilot, "#review-letter-text")
        assert "Edited and approved by mia" in letter
        assert "-Dunno, buy a new one." in letter and "+Unplug it first" in letter
    assert desk.reviews.get(held.review_id).edited


async def test_escape_in_the_editor_approves_nothing(tmp_path: Path, clock: FrozenClock) -> None:
    desk = review_desk(tmp_path, clock)
    desk.reply(1, "Dunno.", "tom")
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_reviews(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReviewsScreen)
    assert replies(desk, 1) == []
    assert len(desk.reviews.queue("mia")) == 1


async def test_a_returned_letter_shows_its_comment_above_the_trainees_draft(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = review_desk(tmp_path, clock)
    desk.reply(1, "Dunno.", "tom")
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_reviews(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")  # no comment: refused, nothing returned
        await settle(pilot)
        assert any("the comment is required" in t for t in toasts(pilot))
        assert len(desk.reviews.queue("mia")) == 1
        await pilot.press("x")
        await settle(pilot)
        app.screen.query_one(Input).value = "say how to put it out"
        await pilot.press("enter")
        await settle(pilot)
        assert "Returned to tom with your comment" in toasts(pilot)
    assert replies(desk, 1) == []

    app = make_app(desk, "tom", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert [str(c) for c in table.get_row_at(0)][2] == "returned"
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        comment = app.screen.query_one("#reply-returned", Label)
        assert comment.display
        assert str(comment.render()) == "Returned by mia: say how to put it out"
        assert app.screen.query_one("#editor", TextArea).text == "Dunno."


async def test_a_trainees_send_is_held_for_review_and_leaves_the_stack(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = review_desk(tmp_path, clock)
    app = make_app(desk, "tom", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        app.screen.query_one("#editor", TextArea).load_text("Please unplug it.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, StackScreen)
        assert any(t.startswith("Held for review by mia") for t in toasts(pilot))
        assert not any("queued" in t.lower() and "reply" in t.lower() for t in toasts(pilot))
        assert app.screen.query_one(DataTable).row_count == 0  # off tom's stack
        assert replies(desk, 1) == []

        # the request screen says it waits, since when, and shows the letter
        clock.advance(timedelta(minutes=10))
        app.open_request(1)
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        pending = str(app.screen.query_one(".review-pending", Static).render())
        held_at = (clock.now() - timedelta(minutes=10)).strftime("%H:%M")
        assert f"Waiting for review by mia (since {held_at})" in pending
        assert "Please unplug it." in pending
        assert "status   waiting for review" in text_of(pilot, "#facts")

        # f2 reads the status in words too
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
        row = [str(c) for c in app.screen.query_one("#results", DataTable).get_row_at(0)]
        assert row[1] == "waiting for review"


async def test_the_stack_header_counts_letters_to_review_and_the_late_ones(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = review_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(subject="Second", message_id="two@example.org"))
    desk.fetch()
    desk.reply(1, "First letter.", "tom")
    clock.advance(timedelta(minutes=20))
    desk.reply(2, "Second letter.", "tom")
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.title is not None and "· f6 review 2 · line 1" in app.screen.title
        clock.advance(timedelta(minutes=15))  # the first has waited 35m: past max_wait (30m)
        app.screen.reload()  # what the app's watch does when the data changes
        await settle(pilot)
        assert "· f6 review 2 · 1 late · line 1" in app.screen.title
        late = app.format_title(app.screen.title, "")
        assert any("warning" in str(span.style) for span in late.spans)
        assert "f6" in [k.key for k in app.screen.query_one(KeyBar).keys]  # in the footer
        screen = await open_reviews(pilot)
        table = screen.query_one("#reviews", DataTable)
        first = [str(c) for c in table.get_row_at(0)]
        assert first[2] == "late 35m" and first[0] == "#1"
    # tom, the trainee, has no letters to review: no count
    app = make_app(desk, "tom", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "f6 review" not in (app.screen.title or "")


async def test_a_letter_turns_late_on_screen_with_the_clock_alone(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Nothing else happens on the desk: the app's clock round (`age_marks`, every 30 s)
    still brings the late mark to the header and pins the letter on the open f6 queue."""
    desk = review_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(subject="Second", message_id="two@example.org"))
    desk.fetch()
    desk.reply(2, "Second letter.", "tom")
    clock.advance(timedelta(minutes=10))
    desk.reply(1, "First letter.", "tom")
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        clock.advance(timedelta(minutes=25))  # #2 has waited 35m, past max_wait (30m)
        assert "late" not in (app.screen.title or "")
        app.age_marks()
        await settle(pilot)
        assert "· f6 review 2 · 1 late" in (app.screen.title or "")
        screen = await open_reviews(pilot)
        table = screen.query_one("#reviews", DataTable)
        assert [str(c) for c in table.get_row_at(1)][2] == "25m"
        clock.advance(timedelta(minutes=6))  # now #1 too: 31m
        app.age_marks()
        await settle(pilot)
        assert [str(c) for c in table.get_row_at(1)][2] == "late 31m"
        assert "2 late" in text_of(pilot, "#reviews-heading")


async def test_a_letter_decided_meanwhile_is_one_line_and_the_list_refreshes(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = review_desk(tmp_path, clock)
    desk.ensure_agent("boss", name="Boss", role="admin")
    held = desk.reply(1, "Please unplug it.", "tom")
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reviews(pilot)
        desk.reviews.approve(held.review_id, "boss")  # another reviewer, first
        await pilot.press("a")
        await settle(pilot)
        failed = [t for t in toasts(pilot) if "approved by boss" in t]
        assert len(failed) == 1 and "\n" not in failed[0]
        assert screen.query_one("#reviews", DataTable).row_count == 0
    assert len(replies(desk, 1)) == 1


async def test_s_on_the_review_screen_opens_the_quality_review(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from supportdesk.ui.screens.quality import QualityScreen

    desk = review_desk(tmp_path, clock)
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_reviews(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, QualityScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReviewsScreen)


def test_snapshot_review_screen_80x24(tmp_path: Path, clock: FrozenClock, snap_compare) -> None:
    desk = review_desk(tmp_path, clock)
    desk.reply(1, "Please unplug it and call the fire brigade.\n\nTom", "tom")
    clock.advance(timedelta(minutes=42))
    app = make_app(desk, "mia", background=False)

    async def ready(pilot: Pilot[None]) -> None:
        await open_reviews(pilot)

    assert snap_compare(app, terminal_size=NARROW, run_before=ready)


async def test_help_lists_the_review_keys_and_the_returned_reason(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from supportdesk.ui.screens.help import HelpScreen

    desk = review_desk(tmp_path, clock)
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        assert "returned" in text and "your letter came back from your mentor" in text
        assert "f6 opens the review" in text
        assert "a approves" in text and "x returns" in text


async def test_f6_on_the_reply_screen_stays_the_second_suggestion(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = review_desk(tmp_path, clock)
    app = make_app(desk, "mia", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, ReplyScreen)
        await pilot.press("escape", "f6")
        await settle(pilot)
        assert isinstance(app.screen, ReviewsScreen)
