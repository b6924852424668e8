"""A conversation end to end: mail in, acknowledgement out, answer joins, agent replies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from supportdesk.clock import FrozenClock
from tests.fixtures import drop_into_maildir, make_desk, smtp_outgoing
from tests.mailfactory import make_mail


def test_new_mail_answer_and_reply_thread_together(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = make_desk(tmp_path, clock, smtp_outgoing(smtp_server))
    first = make_mail(message_id="q1@client.example.org")
    drop_into_maildir(tmp_path, first)
    desk.fetch()
    desk.deliver()

    [ack] = smtp_server.wait_for(1)
    ack_msg = ack.message
    assert ack.recipients == ["carol@example.org"]
    assert "[#1]" in ack_msg["Subject"]
    assert ack_msg["In-Reply-To"] == "<q1@client.example.org>"
    assert ack_msg["Auto-Submitted"] == "auto-replied"
    assert "#1" in ack_msg.get_content()
    assert "12 hours" in ack_msg.get_content()

    # Somebody else writes; then Carol answers the acknowledgement from her mail client.
    clock.advance(timedelta(minutes=5))
    drop_into_maildir(tmp_path, make_mail(sender="dan@example.net", subject="Login fails"))
    desk.fetch()
    clock.advance(timedelta(minutes=5))
    answer = make_mail(
        subject="Re: " + ack_msg["Subject"],
        message_id="q2@client.example.org",
        in_reply_to=ack_msg["Message-ID"].strip("<>"),
        body="The amount should be 40 EUR.\n",
    )
    drop_into_maildir(tmp_path, answer)
    desk.fetch()

    stack = desk.stack()
    assert [r.number for r in stack] == [1, 2]  # Carol's request is back on top
    assert stack[0].reason == "customer_reply"
    assert stack[0].inbound_count == 2

    # A client that drops threading headers: the [#1] tag alone joins the request.
    clock.advance(timedelta(minutes=1))
    drop_into_maildir(
        tmp_path,
        make_mail(
            subject="Re: My invoice [#1]",
            message_id="q3@client.example.org",
            body="Also the VAT is missing.\n",
        ),
    )
    desk.fetch()
    detail = desk.request(1)
    assert [m.message_id for m in detail.messages if m.direction == "in"] == [
        "q1@client.example.org",
        "q2@client.example.org",
        "q3@client.example.org",
    ]

    # The agent answers: the request leaves the stack and Carol receives a threaded reply.
    desk.reply(1, "Thank you, Carol. A corrected invoice is on its way.", "anna")
    assert [r.number for r in desk.stack()] == [2]
    assert desk.request(1).request.status == "waiting"
    smtp_server.clear()
    report = desk.deliver()
    assert report.sent == 2  # Dan's acknowledgement and the reply
    replies = [m for m in smtp_server.messages if m.recipients == ["carol@example.org"]]
    assert len(replies) == 1
    reply_msg = replies[0].message
    assert reply_msg["In-Reply-To"] == "<q3@client.example.org>"
    assert "<q3@client.example.org>" in reply_msg["References"]
    assert "[#1]" in reply_msg["Subject"]
    assert "corrected invoice" in reply_msg.get_content()
    assert "Anna Agent" in reply_msg["From"]
    assert reply_msg["Auto-Submitted"] is None


def test_reply_is_stored_before_delivery(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock, {"outgoing": {"kind": "none"}})
    drop_into_maildir(tmp_path, make_mail())
    desk.fetch()
    message_id = desk.reply(1, "We are on it.", "anna")
    out = [m for m in desk.request(1).messages if m.message_id == message_id]
    assert out and out[0].status == "queued" and out[0].direction == "out"


def test_closed_request_reopens_on_customer_mail(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="c1@x"))
    desk.fetch()
    desk.close(1, "resolved", "anna")
    assert desk.stack() == []
    drop_into_maildir(tmp_path, make_mail(subject="Re: again [#1]", message_id="c2@x"))
    desk.fetch()
    [top] = desk.stack()
    assert (top.number, top.status, top.reason) == (1, "open", "reopened")
