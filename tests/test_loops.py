"""No mail loops: robots never get an acknowledgement, people get at most one an hour."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from supportdesk.clock import FrozenClock
from supportdesk.mail.parse import parse_message
from supportdesk.store import tables as t
from tests.fixtures import corpus_or_skip, drop_into_maildir, make_desk
from tests.mailfactory import make_bounce, make_mail

_ROBOT = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)$", re.I)


def _clearly_automatic(raw: bytes) -> bool:
    """An independent oracle (the stdlib parser, RFC 3834 rules) for what must not be answered."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    auto = (msg.get("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return True
    if (msg.get("Precedence") or "").strip().lower() in ("bulk", "junk", "list"):
        return True
    if msg.get("List-Id") or (msg.get("Return-Path") or "").replace(" ", "") == "<>":
        return True
    if msg.get_content_type() == "multipart/report":
        return True
    sender = email.utils.parseaddr(str(msg.get("From") or ""))[1]
    return bool(_ROBOT.match(sender.split("@")[0]))


def _acked_message_ids(desk) -> set[str]:
    """Message-IDs of incoming mail that an acknowledgement answered."""
    with desk.db.read() as conn:
        rows = conn.execute(
            select(t.message.c.in_reply_to).where(t.message.c.kind == "ack")
        ).scalars()
        return set(rows)


@pytest.mark.slow
@pytest.mark.parametrize(
    "corpus_dir",
    ["sisimai-set-of-emails", "notmuch-test-corpora", "mimekit-testdata", "flanker-fixtures"],
)
def test_no_acknowledgement_to_robots_in_the_corpus(
    tmp_path: Path, clock: FrozenClock, corpus_dir: str
) -> None:
    folder = corpus_or_skip() / corpus_dir
    desk = make_desk(tmp_path, clock, {"workflow": {"ack_interval": "1s"}})
    desk.import_mail(folder, acknowledge=True)
    acked = _acked_message_ids(desk)
    robots = 0
    seen: set[str] = set()
    for path in sorted(folder.iterdir()):
        raw = path.read_bytes()
        message_id = parse_message(raw).message_id
        first_copy = message_id not in seen  # later copies of a Message-ID are not new mail
        seen.add(message_id)
        if first_copy and _clearly_automatic(raw):
            robots += 1
            assert message_id not in acked, path.name
    assert robots > 10  # the oracle found robots, so the assertion above had work to do


def test_twenty_mails_from_one_sender_get_one_acknowledgement(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock, {"workflow": {"loop_threshold": 100}})
    for i in range(20):
        drop_into_maildir(tmp_path, make_mail(subject=f"Question {i}", body=f"Question {i}?"))
        desk.fetch()
        clock.advance(timedelta(seconds=3))
    assert len(desk.stack()) == 20
    assert desk.outbox_counts() == {"queued": 1}
    # An hour later the same customer may be acknowledged again.
    clock.advance(timedelta(hours=1))
    drop_into_maildir(tmp_path, make_mail(subject="Another question", body="Another one?"))
    desk.fetch()
    assert desk.outbox_counts() == {"queued": 2}


def test_auto_reply_joins_without_pushing_or_acknowledging(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="p1@x"))
    desk.fetch()
    desk.reply(1, "Here is the answer.", "anna")
    out_id = [m for m in desk.request(1).messages if m.kind == "reply"][0].message_id
    drop_into_maildir(
        tmp_path,
        make_mail(
            subject="Out of office", in_reply_to=out_id, headers={"Auto-Submitted": "auto-replied"}
        ),
    )
    desk.fetch()
    assert desk.stack() == []
    assert desk.request(1).request.status == "waiting"
    assert desk.outbox_counts() == {"queued": 2}  # the ack and the reply, nothing to the robot


def test_bounce_of_our_reply_marks_it_failed_and_pushes(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="p1@x"))
    desk.fetch()
    out_id = desk.reply(1, "Here is the answer.", "anna")
    bounce = make_bounce(out_id)
    drop_into_maildir(tmp_path, bounce)
    desk.fetch()
    [top] = desk.stack()
    assert (top.number, top.reason) == (1, "delivery_failed")
    statuses = {m.message_id: m.status for m in desk.request(1).messages}
    assert statuses[out_id] == "failed"
    assert statuses["bounce1@mx"] == "received"
    assert len(desk.list_requests()) == 1  # the bounce did not open a request of its own


def _acks_to(desk) -> dict[str, int]:
    """How many acknowledgements each address was sent."""
    counts: dict[str, int] = {}
    with desk.db.read() as conn:
        rows = conn.execute(
            select(t.message.c.to_addrs).where(
                t.message.c.direction == "out", t.message.c.kind == "ack"
            )
        )
        for (to,) in rows:
            counts[to] = counts.get(to, 0) + 1
    return counts


def test_acknowledgements_are_limited_by_the_address_they_go_to(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Forged senders all naming one Reply-To must not make us mail that third party."""
    desk = make_desk(tmp_path, clock)
    for i in range(5):  # five From addresses within an hour, one victim
        drop_into_maildir(
            tmp_path,
            make_mail(
                sender=f"sender{i}@spam.example",
                subject=f"Buy now {i}",
                body=f"Offer number {i} for you",
                headers={"Reply-To": "victim@example.net"},
            ),
        )
        desk.fetch()
        clock.advance(timedelta(minutes=5))
    assert _acks_to(desk) == {"victim@example.net": 1}
    for i in range(10):  # then one every 61 minutes: at most acks_per_day (5) in a day
        clock.advance(timedelta(minutes=61))
        drop_into_maildir(
            tmp_path,
            make_mail(
                sender=f"later{i}@spam.example",
                subject=f"Later {i}",
                body=f"Later offer {i}",
                headers={"Reply-To": "victim@example.net"},
            ),
        )
        desk.fetch()
    assert _acks_to(desk) == {"victim@example.net": 5}
    skipped = [
        e
        for r in desk.list_requests(limit=100)
        for e in desk.request(r.number).events
        if e["kind"] == "ack_skipped"
    ]
    assert len(skipped) == 10 and {e["reason"] for e in skipped} == {"rate_limited"}


def test_a_naive_auto_responder_joins_its_request_instead_of_opening_new_ones(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """No RFC 3834 headers, a fresh subject each time, the same text: one request, one ack."""
    desk = make_desk(tmp_path, clock)
    robot_text = "Thank you for your message. We will get back to you within 3 business days."
    for i in range(10):
        drop_into_maildir(
            tmp_path,
            make_mail(sender="info@partner.example", subject=f"Ticket {1000 + i}", body=robot_text),
        )
        desk.fetch()
        clock.advance(timedelta(minutes=30))
    [only] = desk.list_requests()
    assert only.inbound_count == 10
    joined = [m.joined_by for m in desk.request(only.number).messages if m.direction == "in"]
    assert joined == ["new"] + ["same_body"] * 9
    assert _acks_to(desk) == {"info@partner.example": 1}


def test_a_sender_opening_too_many_requests_a_day_is_tagged_and_not_acknowledged(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock, {"workflow": {"acks_per_day": 50}})
    for i in range(8):  # a new text every 61 minutes: neither the hourly limit nor a repeat
        drop_into_maildir(
            tmp_path,
            make_mail(sender="bot@loop.example", subject=f"Re: {i}", body=f"Automatic notice {i}"),
        )
        desk.fetch()
        clock.advance(timedelta(minutes=61))
    assert _acks_to(desk) == {"bot@loop.example": 5}  # loop_threshold, then silence
    requests = desk.list_requests()
    assert len(requests) == 8  # nothing dropped: every message is a request an agent can see
    assert all("possible-loop" in r.tags for r in requests)
    # A day later the sender is welcome again.
    clock.advance(timedelta(days=1))
    drop_into_maildir(
        tmp_path, make_mail(sender="bot@loop.example", subject="Real question", body="Help me")
    )
    desk.fetch()
    assert _acks_to(desk) == {"bot@loop.example": 6}
    assert "possible-loop" not in desk.list_requests()[0].tags
