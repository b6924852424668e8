"""Intake edge cases: the same mail twice in one batch, copies, and ordering on the stack."""

from __future__ import annotations

from pathlib import Path

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
