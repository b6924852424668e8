"""Trainees' letters held for review (issue 19): the states a letter goes through, on the
desk itself. A trainee's answer is held (the request leaves the stack, nothing is queued);
the mentor approves it (queued once, signed by the trainee) or returns it (back on the
trainee's stack, the draft holding the letter again)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.domain.records import HeldLetter
from supportdesk.errors import SupportDeskError
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail


def _desk(tmp_path: Path, clock: FrozenClock) -> Desk:
    desk = make_desk(tmp_path, clock)
    desk.ensure_agent("mia", name="Mia Mentor")
    desk.ensure_agent("tom", name="Tom Trainee")
    desk.set_training("tom", True, "mia")
    drop_into_maildir(tmp_path, make_mail(sender="ann@example.org", subject="Printer on fire"))
    desk.fetch()
    return desk


def _outgoing(desk: Desk, number: int) -> list[str]:
    return [m.text for m in desk.request(number).messages if m.direction == "out"]


def test_a_trainee_reply_is_held_and_approved_once(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    acks = len(_outgoing(desk, 1))
    held = desk.reply(1, "Please unplug it.", "tom")

    assert isinstance(held, HeldLetter)
    assert desk.request(1).request.status == "review"
    assert [r.number for r in desk.stack()] == []
    assert len(_outgoing(desk, 1)) == acks  # nothing queued
    assert [r.id for r in desk.reviews.queue("mia")] == [held.review_id]
    assert desk.reviews.queue("anna") == []  # neither the mentor nor an admin

    clock.advance(timedelta(minutes=5))
    message_id = desk.reviews.approve(held.review_id, "mia")
    texts = _outgoing(desk, 1)
    assert len(texts) == acks + 1 and "Please unplug it." in texts[-1]
    detail = desk.request(1)
    assert detail.request.status == "waiting"
    assert detail.request.first_response_at == clock.now()
    assert desk.reviews.get(held.review_id).message_id == message_id
    with pytest.raises(SupportDeskError, match="approved by mia already"):
        desk.reviews.approve(held.review_id, "mia")


def test_a_returned_letter_goes_back_to_the_trainee_with_the_draft(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk(tmp_path, clock)
    held = desk.reply(1, "Dunno.", "tom")
    with pytest.raises(SupportDeskError, match="comment is required"):
        desk.reviews.return_letter(held.review_id, "mia", " ")
    desk.reviews.return_letter(held.review_id, "mia", "Say how to put it out.")

    request = desk.request(1).request
    assert (request.status, request.reason, request.assignee) == ("open", "returned", "tom")
    assert [r.number for r in desk.stack()] == [1]
    draft = desk.draft(1, "tom")
    assert draft is not None and draft.text == "Dunno."
    returned = desk.reviews.returned_for(1, "tom")
    assert returned is not None and returned.comment == "Say how to put it out."
