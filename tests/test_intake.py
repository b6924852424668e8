"""Intake edge cases: the same mail twice in one batch, copies, and ordering on the stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail


def test_same_message_twice_in_one_batch_is_stored_once(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    raw = make_mail(message_id="twice@x")
    drop_into_maildir(tmp_path, raw, raw, raw.replace(b"wrong amount", b"wrong total"))
    report = desk.fetch().intake
    assert (report.stored, report.duplicates, report.copies_kept) == (1, 1, 1)
    assert len(desk.list_requests()) == 1
    assert desk.request(1).request.inbound_count == 1


def test_stack_is_last_in_first_out(tmp_path: Path, clock: FrozenClock) -> None:
    from datetime import timedelta

    desk = make_desk(tmp_path, clock)
    for i in range(3):
        drop_into_maildir(tmp_path, make_mail(sender=f"c{i}@example.org", message_id=f"o{i}@x"))
        desk.fetch()
        clock.advance(timedelta(minutes=1))
    assert [r.number for r in desk.stack()] == [3, 2, 1]
    drop_into_maildir(
        tmp_path, make_mail(sender="c0@example.org", subject="Re: [#1]", message_id="o3@x")
    )
    desk.fetch()
    assert [r.number for r in desk.stack()] == [1, 3, 2]


@pytest.mark.slow  # desks racing: over 2 s
def test_two_desks_taking_mail_in_at_once_share_numbers_without_clash_or_gap(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Two processes' intake and an agent answering, all at once on one database: each
    message stored once, every key handed out once, request numbers 1..N without a gap
    (on PostgreSQL these transactions really do run side by side)."""
    from concurrent.futures import ThreadPoolExecutor

    first = make_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path, *(make_mail(sender=f"c{i}@example.org", message_id=f"q{i}@x") for i in range(20))
    )
    assert len(first.fetch().intake.new_requests) == 20
    second_box = {"mailbox": {"kind": "maildir", "path": "mail2"}}
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail2" / sub).mkdir(parents=True)
    second = make_desk(tmp_path, clock, second_box)  # another process, its own mailbox
    for i in range(300):  # new customers (the same ones in both boxes) and replies to #1..#20
        drop_into_maildir(
            tmp_path,
            make_mail(sender=f"n{i % 50}@example.org", message_id=f"a{i}@x", body=f"Question {i}"),
        )
        reply = make_mail(
            sender=f"c{i % 20}@example.org", message_id=f"b{i}@x", in_reply_to=f"q{i % 20}@x"
        )
        new = make_mail(sender=f"n{i % 50}@example.org", message_id=f"c{i}@x", body=f"Also {i}")
        for name, raw in (("b", reply), ("c", new)):
            path = tmp_path / "mail2" / "new" / f"{i:04d}.{name}"
            path.write_bytes(raw)
    try:
        with ThreadPoolExecutor(3) as pool:
            one = pool.submit(first.fetch)
            two = pool.submit(second.fetch)
            answers = pool.submit(
                lambda: [first.reply(1 + n % 20, f"Answer {n}", "anna") for n in range(60)]
            )
            reports = [one.result().intake, two.result().intake]
            assert len(answers.result()) == 60
        assert [r.stored for r in reports] == [300, 600]
        numbers = sorted(n for r in reports for n in r.new_requests)
        assert numbers == list(range(21, 21 + 600))
        assert [r.number for r in first.list_requests(limit=1000)] == list(range(620, 0, -1))
        detail = first.request(1)
        assert detail.request.message_count == len(detail.messages)
        assert len({m.message_id for m in detail.messages}) == len(detail.messages)
    finally:
        second.close_database()
        first.close_database()


def test_a_batch_with_a_new_request_and_its_follow_up_message_is_stored(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """One fetch brings a customer's first message and, right after it, their second one to
    the same thread: the request is made and pushed again in the same batch (its row sets
    more columns than the others'), and nothing is lost."""
    desk = make_desk(tmp_path, clock)
    first = make_mail(sender="ann@example.org", subject="Printer", message_id="p1@example.org")
    again = make_mail(
        sender="ann@example.org",
        subject="Re: Printer",
        in_reply_to="p1@example.org",
        message_id="p2@example.org",
    )
    other = make_mail(sender="bob@example.org", subject="Invoice")
    drop_into_maildir(tmp_path, first, again, other)
    desk.fetch()
    numbers = {r.subject: r.number for r in desk.list_requests()}
    assert set(numbers) == {"Printer", "Invoice"}
    assert len(desk.request(numbers["Printer"]).messages) >= 2
    desk.close_database()
