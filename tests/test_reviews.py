"""Trainees' letters (issue 19, points 1–3): every state a letter goes through on the desk
and through the CLI: held, approved (as written or edited), returned, sent again; who may
decide; the SLA that keeps counting; the tick, a new customer message and a merge around a
pending letter; graduating a trainee; the `agents` and `reviews` commands."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.domain.records import HeldLetter
from supportdesk.errors import SupportDeskError
from tests.databases import query
from tests.fixtures import add_agents, drop_into_maildir, make_desk, run_cli, write_config
from tests.mailfactory import make_mail


def _desk(tmp_path: Path, clock: FrozenClock, extra: dict | None = None) -> Desk:  # type: ignore[type-arg]
    desk = make_desk(tmp_path, clock, extra)
    desk.ensure_agent("mia", name="Mia Mentor")
    desk.ensure_agent("tom", name="Tom Trainee")
    desk.ensure_agent("bob", name="Bob Other")
    desk.set_training("tom", True, "mia")
    drop_into_maildir(tmp_path, make_mail(sender="ann@example.org", subject="Printer on fire"))
    desk.fetch()
    return desk


def _out(desk: Desk, number: int) -> list:  # type: ignore[type-arg]
    return [m for m in desk.request(number).messages if m.direction == "out"]


def _notes(desk: Desk, number: int) -> list[str]:
    return [m.text for m in desk.request(number).messages if m.direction == "note"]


def _events(desk: Desk, number: int, kind: str) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in desk.request(number).events if e["kind"] == kind]


# -- the desk ------------------------------------------------------------------------------


def test_held_then_approved_goes_out_once_signed_by_the_trainee(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk(tmp_path, clock)
    before = len(_out(desk, 1))
    desk.save_draft(1, "tom", "Please unpl")
    held = desk.reply(1, "Please unplug it.", "tom")

    assert isinstance(held, HeldLetter)
    request = desk.request(1).request
    assert request.status == "review" and request.first_response_at is None
    assert desk.stack() == [] and len(_out(desk, 1)) == before
    assert desk.draft(1, "tom") is None  # the letter is the review's now
    assert [e["actor"] for e in _events(desk, 1, "review_held")] == ["tom"]

    clock.advance(timedelta(minutes=12))  # the SLA counts until the customer gets it
    desk.reviews.approve(held.review_id, "mia")
    sent = _out(desk, 1)
    assert len(sent) == before + 1
    assert sent[-1].from_name.startswith("Tom Trainee") and "Please unplug it." in sent[-1].text
    request = desk.request(1).request
    assert request.status == "waiting" and request.first_response_at == clock.now()
    seconds = query(tmp_path, "SELECT first_response_seconds FROM request WHERE id = 1")
    assert round(float(seconds)) >= 12 * 60
    assert [e["actor"] for e in _events(desk, 1, "reply")] == ["tom"]
    assert [e["actor"] for e in _events(desk, 1, "review_approved")] == ["mia"]
    assert desk.reviews.get(held.review_id).state == "approved"
    assert desk.reviews.queue("mia") == []


def test_an_edited_approval_sends_the_edit_and_leaves_the_diff_in_the_thread(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk(tmp_path, clock)
    held = desk.reply(1, "Hello,\nunplug it.\nTom\n", "tom")
    desk.reviews.approve(held.review_id, "mia", body="Hello,\nunplug it right away.\nTom\n")

    assert "unplug it right away." in _out(desk, 1)[-1].text
    review = desk.reviews.get(held.review_id)
    assert review.edited and review.final_body is not None
    from supportdesk.desk.reviews import letter_diff

    diff = letter_diff(review)
    assert "-unplug it." in diff and "+unplug it right away." in diff
    notes = _notes(desk, 1)
    assert len(notes) == 1 and notes[0].startswith("Approved tom's letter with edits:")
    assert "+unplug it right away." in notes[0]
    note = [m for m in desk.request(1).messages if m.direction == "note"][0]
    assert note.agent_login == "mia"
    # approved as written: no note
    drop_into_maildir(tmp_path, make_mail(sender="ann@example.org", subject="Still smoking"))
    desk.fetch()
    again = desk.reply(2, "Call the fire brigade.", "tom")
    desk.reviews.approve(again.review_id, "mia", body="Call the fire brigade.\n")
    assert _notes(desk, 2) == []


def test_returned_then_sent_again_is_a_new_letter(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    first = desk.reply(1, "Dunno.", "tom")
    desk.reviews.return_letter(first.review_id, "mia", "Say how to put it out.")

    request = desk.request(1).request
    assert (request.status, request.reason, request.assignee) == ("open", "returned", "tom")
    assert desk.draft(1, "tom").text == "Dunno."  # type: ignore[union-attr]
    assert desk.reviews.returned_for(1, "tom").comment == "Say how to put it out."  # type: ignore[union-attr]
    assert _notes(desk, 1) == ["Returned to tom: Say how to put it out.\n"]
    assert [e["actor"] for e in _events(desk, 1, "review_returned")] == ["mia"]
    before = len(_out(desk, 1))

    second = desk.reply(1, "Use a CO2 extinguisher.", "tom")
    assert second.review_id != first.review_id
    assert desk.reviews.get(first.review_id).state == "returned"
    assert desk.reviews.get(second.review_id).state == "pending"
    assert desk.reviews.returned_for(1, "tom") is None
    assert len(_out(desk, 1)) == before
    with pytest.raises(SupportDeskError, match="returned by mia already"):
        desk.reviews.approve(first.review_id, "mia")


def test_the_same_idempotency_key_holds_one_letter(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    one = desk.reply(1, "Unplug it.", "tom", idempotency_key="k1")
    two = desk.reply(1, "Unplug it.", "tom", idempotency_key="k1")
    assert one == two
    assert len(desk.reviews.letters(number=1)) == 1


def test_only_the_mentor_or_an_admin_decides(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    desk.ensure_agent("ada", role="admin")
    held = desk.reply(1, "Unplug it.", "tom")
    for who in ("bob", "tom"):
        with pytest.raises(SupportDeskError, match="only mia \\(the mentor\\) or an admin"):
            desk.reviews.approve(held.review_id, who)
        with pytest.raises(SupportDeskError, match="only mia"):
            desk.reviews.return_letter(held.review_id, who, "no")
    assert desk.reviews.queue("bob") == [] and desk.reviews.queue("tom") == []
    assert [r.id for r in desk.reviews.queue("ada")] == [held.review_id]
    desk.reviews.approve(held.review_id, "ada")
    assert desk.reviews.get(held.review_id).decided_by == "ada"


def test_a_late_letter_is_overdue_and_pinned_first(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock, {"review": {"max_wait": "30m"}})
    drop_into_maildir(tmp_path, make_mail(sender="bea@example.org", subject="Second"))
    desk.fetch()
    desk.ensure_agent("tia")
    desk.set_training("tia", True, None)  # any admin reviews tia's
    older = desk.reply(1, "First letter.", "tom")
    clock.advance(timedelta(minutes=20))
    newer = desk.reply(2, "Second letter.", "tom")
    assert [r.id for r in desk.reviews.queue("mia")] == [older.review_id, newer.review_id]
    clock.advance(timedelta(minutes=11))  # older: 31 minutes, newer: 11
    queue = desk.reviews.queue("mia")
    assert [(r.id, r.overdue) for r in queue] == [
        (older.review_id, True),
        (newer.review_id, False),
    ]


def test_the_tick_leaves_a_letter_under_review_alone(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    held = desk.reply(1, "Unplug it.", "tom")
    before = len(_out(desk, 1))
    for _ in range(5):
        clock.advance(timedelta(days=1))
        desk.tick()
    request = desk.request(1).request
    assert request.status == "review" and len(_out(desk, 1)) == before
    assert desk.reviews.get(held.review_id).state == "pending"


def test_the_customer_writing_again_while_a_letter_waits(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk(tmp_path, clock)
    held = desk.reply(1, "Unplug it.", "tom")
    clock.advance(timedelta(minutes=3))
    drop_into_maildir(
        tmp_path,
        make_mail(sender="ann@example.org", subject="Re: Printer on fire [#1]", body="Hurry!"),
    )
    desk.fetch()
    assert [r.number for r in desk.stack()] == [1]  # back on the stack
    assert desk.reviews.get(held.review_id).state == "pending"
    desk.reviews.approve(held.review_id, "mia")
    assert "Unplug it." in _out(desk, 1)[-1].text


def test_a_merge_moves_the_letters(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(sender="ann@example.org", subject="Fire again"))
    desk.fetch()
    held = desk.reply(1, "Unplug it.", "tom")
    desk.merge(1, 2, "anna")
    assert desk.reviews.get(held.review_id).number == 2
    assert [r.id for r in desk.reviews.letters(number=2)] == [held.review_id]
    desk.reviews.approve(held.review_id, "mia")
    assert "Unplug it." in _out(desk, 2)[-1].text


def test_a_graduate_s_pending_letters_stay_reviewable(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(sender="bea@example.org", subject="Second"))
    desk.fetch()
    held = desk.reply(1, "Unplug it.", "tom")
    desk.set_training("tom", False)
    assert [r.id for r in desk.reviews.queue("mia")] == [held.review_id]
    desk.reviews.approve(held.review_id, "mia")
    direct = desk.reply(2, "Hello.", "tom")
    assert not isinstance(direct, HeldLetter)
    assert desk.request(2).request.status == "waiting"
