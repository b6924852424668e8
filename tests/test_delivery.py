"""Delivery faults: nothing is lost when the SMTP server is down or says no."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from supportdesk.clock import FrozenClock
from tests.fixtures import drop_into_maildir, make_desk, smtp_outgoing
from tests.mailfactory import make_mail


def _desk_with_one_reply(tmp_path: Path, clock: FrozenClock, smtp_server):
    desk = make_desk(tmp_path, clock, smtp_outgoing(smtp_server))
    drop_into_maildir(tmp_path, make_mail(message_id="q@x"))
    desk.fetch()
    desk.reply(1, "Answer.", "anna")
    return desk


def test_server_down_keeps_mail_queued_until_it_is_back(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = _desk_with_one_reply(tmp_path, clock, smtp_server)
    smtp_server.stop()
    report = desk.deliver()
    assert (report.sent, report.retrying, report.failed) == (0, 2, 0)
    assert desk.outbox_counts() == {"queued": 2}
    smtp_server.start()
    assert desk.deliver().sent == 0  # not due yet: backoff
    clock.advance(timedelta(minutes=2))
    assert desk.deliver().sent == 2
    assert desk.deliver().sent == 0
    clock.advance(timedelta(hours=3))
    assert desk.deliver().sent == 0
    assert len(smtp_server.messages) == 2  # each went out exactly once
    assert desk.outbox_counts() == {"sent": 2}


def test_4xx_retries_and_goes_out_once(tmp_path: Path, clock: FrozenClock, smtp_server) -> None:
    desk = _desk_with_one_reply(tmp_path, clock, smtp_server)
    smtp_server.fail_next(451, "4.3.0 try later", count=2)
    report = desk.deliver()
    assert report.retrying == 2 and report.sent == 0
    clock.advance(timedelta(minutes=2))
    assert desk.deliver().sent == 2
    assert len(smtp_server.messages) == 2
    assert desk.request(1).request.status == "waiting"


def test_5xx_fails_and_pushes_the_request_back(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = _desk_with_one_reply(tmp_path, clock, smtp_server)
    smtp_server.refuse("carol@example.org", 550, "5.1.1 no such user")
    report = desk.deliver()
    assert report.failed == 2
    [top] = desk.stack()
    assert (top.number, top.status, top.reason) == (1, "open", "delivery_failed")
    failed = [m for m in desk.request(1).messages if m.direction == "out"]
    assert {m.status for m in failed} == {"failed"}
    assert "550" in (failed[0].last_error or "")
    clock.advance(timedelta(days=1))
    assert desk.deliver().sent == 0  # failed mail is not retried behind the agent's back


def test_temporary_failures_give_up_after_max_attempts(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = _desk_with_one_reply(tmp_path, clock, smtp_server)
    smtp_server.stop()
    for _ in range(desk.settings.outgoing.max_attempts):
        desk.deliver()
        clock.advance(timedelta(hours=9))
    assert desk.outbox_counts() == {"failed": 2}
    assert desk.stack()[0].reason == "delivery_failed"
