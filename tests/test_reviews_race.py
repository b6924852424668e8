"""Two reviewers deciding the same trainee's letter at once (two consoles on one database,
SQLite and PostgreSQL): it goes out once, and it ends in exactly one state."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.domain.records import HeldLetter
from supportdesk.errors import SupportDeskError
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail

ROUNDS = 10


def _at_once(*calls: Callable[[], object]) -> list[BaseException | None]:
    """Run the calls on threads released together; what each raised (a SupportDeskError is
    the refusal a reviewer is told; anything else fails the test)."""
    start = threading.Barrier(len(calls))
    outcome: list[BaseException | None] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        start.wait(timeout=30)
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - checked below, on the test's thread
            outcome[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in outcome:
        if error is not None and not isinstance(error, SupportDeskError):
            raise error
    return outcome


def _two_desks(tmp_path: Path, clock: FrozenClock) -> tuple[Desk, Desk]:
    first = make_desk(tmp_path, clock)
    first.ensure_agent("mia", name="Mia Mentor")
    first.ensure_agent("ada", name="Ada Admin", role="admin")
    first.ensure_agent("tom", name="Tom Trainee")
    first.set_training("tom", True, "mia")
    drop_into_maildir(
        tmp_path,
        *(make_mail(sender=f"c{i}@example.org", subject=f"Question {i}") for i in range(ROUNDS)),
    )
    first.fetch()
    return first, make_desk(tmp_path, clock)  # another console on the same database


def _replies(desk: Desk, number: int) -> list[str]:
    return [
        m.text for m in desk.request(number).messages if m.direction == "out" and m.kind == "reply"
    ]


@pytest.mark.slow  # desks racing: over 2 s
def test_two_reviewers_approving_at_once_send_the_letter_once(
    tmp_path: Path, clock: FrozenClock
) -> None:
    first, second = _two_desks(tmp_path, clock)
    try:
        for number in range(1, ROUNDS + 1):
            held = first.reply(number, f"Answer {number}.", "tom")
            assert isinstance(held, HeldLetter)
            outcome = _at_once(
                lambda r=held.review_id: first.reviews.approve(r, "mia"),
                lambda r=held.review_id: second.reviews.approve(r, "ada"),
            )
            refused = [e for e in outcome if e is not None]
            assert len(refused) == 1, outcome
            review = first.reviews.get(held.review_id)
            assert review.state == "approved"
            message = str(refused[0])
            assert "\n" not in message
            assert f"review {held.review_id} was approved by {review.decided_by}" in message
            assert message.endswith(("meanwhile", "already"))
            assert [t for t in _replies(first, number) if f"Answer {number}." in t] != []
            assert len([t for t in _replies(first, number) if f"Answer {number}." in t]) == 1
            assert first.request(number).request.status == "waiting"
    finally:
        second.close_database()
        first.close_database()


@pytest.mark.slow  # desks racing: over 2 s
def test_approve_and_return_at_once_leave_one_outcome(tmp_path: Path, clock: FrozenClock) -> None:
    first, second = _two_desks(tmp_path, clock)
    try:
        for number in range(1, ROUNDS + 1):
            held = first.reply(number, f"Answer {number}.", "tom")
            assert isinstance(held, HeldLetter)
            outcome = _at_once(
                lambda r=held.review_id: first.reviews.approve(r, "mia"),
                lambda r=held.review_id: second.reviews.return_letter(r, "ada", "Be kinder."),
            )
            assert len([e for e in outcome if e is not None]) == 1, outcome
            review = first.reviews.get(held.review_id)
            sent = [t for t in _replies(first, number) if f"Answer {number}." in t]
            request = first.request(number).request
            draft = first.draft(number, "tom")
            if review.state == "approved":
                assert outcome[0] is None and len(sent) == 1
                assert request.status == "waiting" and draft is None
            else:
                assert review.state == "returned" and outcome[1] is None
                assert sent == [] and review.message_id is None
                assert (request.status, request.assignee) == ("open", "tom")
                assert draft is not None and draft.text == f"Answer {number}."
            kinds = [e["kind"] for e in first.request(number).events]
            assert kinds.count("review_approved") + kinds.count("review_returned") == 1
    finally:
        second.close_database()
        first.close_database()


@pytest.mark.slow  # desks racing: over 2 s
def test_a_trainee_s_retry_at_once_holds_one_letter(tmp_path: Path, clock: FrozenClock) -> None:
    first, second = _two_desks(tmp_path, clock)
    try:
        for number in range(1, ROUNDS + 1):
            held: list[str] = []
            outcome = _at_once(
                lambda n=number, h=held: h.append(
                    first.reply(n, "Hi.", "tom", idempotency_key="k")
                ),
                lambda n=number, h=held: h.append(
                    second.reply(n, "Hi.", "tom", idempotency_key="k")
                ),
            )
            assert outcome == [None, None]
            assert len(held) == 2 and len(set(held)) == 1  # both told of the same review
            assert len(first.reviews.letters(number=number)) == 1
            kinds = [e["kind"] for e in first.request(number).events]
            assert kinds.count("review_held") == 1
    finally:
        second.close_database()
        first.close_database()
