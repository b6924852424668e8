"""Delivery faults: nothing is lost when the SMTP server is down or says no."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.config import parse_settings
from supportdesk.desk import Desk
from supportdesk.errors import ConfigError
from tests.fixtures import drop_into_maildir, make_desk, run_cli, smtp_outgoing
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


# --------------------------------------------------------------------------- uncertain delivery
# Copies are counted on a real SMTP server on 127.0.0.1 that takes the message and then
# answers its final dot too late, or hangs up instead of answering.


def _desk_with_the_answer_queued(
    tmp_path: Path, clock: FrozenClock, smtp_server, **outgoing: object
) -> Desk:
    """A desk whose acknowledgement went out; the agent's answer waits in the outbox."""
    config = smtp_outgoing(smtp_server)
    config["outgoing"].update(outgoing)
    desk = make_desk(tmp_path, clock, config)
    drop_into_maildir(tmp_path, make_mail(message_id="q@x"))
    desk.fetch()
    assert desk.deliver().sent == 1  # the acknowledgement
    smtp_server.clear()
    desk.reply(1, "Answer.", "anna")
    return desk


def _answer(desk: Desk):
    [answer] = [m for m in desk.request(1).messages if m.direction == "out" and m.agent_login]
    return answer


def _timeline(desk: Desk, kind: str) -> list[dict]:
    return [e for e in desk.request(1).events if e["kind"] == kind]


@pytest.mark.parametrize("fault", ["late", "drop"])
@pytest.mark.slow
def test_a_message_the_server_may_have_goes_out_at_most_twice(
    tmp_path: Path, clock: FrozenClock, smtp_server, fault: str
) -> None:
    desk = _desk_with_the_answer_queued(
        tmp_path, clock, smtp_server, data_timeout="1s", max_attempts=3
    )
    if fault == "late":
        smtp_server.answer_data_late(2.0, count=10)  # 1s timeout, 2s server: network time
    else:
        smtp_server.drop_after_data(count=10)
    report = desk.deliver()
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    assert len(smtp_server.messages) == 1
    [uncertain] = _timeline(desk, "delivery_uncertain")
    assert uncertain["detail"]["message_id"] == _answer(desk).message_id
    assert uncertain["detail"]["note"].startswith(
        "the server may have received it; one more attempt at "
    )
    assert desk.deliver().sent == 0  # not before the delay
    assert len(smtp_server.messages) == 1

    clock.advance(timedelta(minutes=2))
    report = desk.deliver()
    assert (report.sent, report.retrying, report.unconfirmed) == (0, 0, 1)
    copies = smtp_server.messages
    assert len(copies) == 2
    assert copies[0].raw == copies[1].raw  # the same bytes, so the same Message-ID
    assert copies[0].message["Message-ID"] == f"<{_answer(desk).message_id}>"
    assert (_answer(desk).status, _answer(desk).attempts) == ("unconfirmed", 2)
    [unconfirmed] = _timeline(desk, "delivery_unconfirmed")
    assert "not sent again" in unconfirmed["detail"]["note"]
    assert desk.outbox_counts() == {"sent": 1, "unconfirmed": 1}
    assert desk.outbox_pending() == {"unconfirmed": 1}

    for _ in range(5):  # nothing is ever resent behind anyone's back
        clock.advance(timedelta(hours=9))
        assert desk.deliver().as_dict()["sent"] == 0
    assert len(smtp_server.messages) == 2
    assert desk.request(1).request.status == "waiting"  # the customer probably has it


def test_the_timeline_tells_an_admin_on_the_cli(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = _desk_with_the_answer_queued(tmp_path, clock, smtp_server)
    smtp_server.drop_after_data(count=2)
    desk.deliver()
    shown = run_cli("requests", "show", "1", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "delivery_uncertain: the server may have received it; one more attempt at" in (
        " ".join(shown.stdout.split())
    )
    clock.advance(timedelta(minutes=2))
    desk.deliver()
    as_json = json.loads(run_cli("requests", "show", "1", "--json", cwd=tmp_path).stdout)
    kinds = [e["kind"] for e in as_json["events"]]
    assert kinds.count("delivery_uncertain") == 1 and kinds.count("delivery_unconfirmed") == 1
    assert {m["status"] for m in as_json["messages"] if m["direction"] == "out"} == {
        "sent",
        "unconfirmed",
    }
    sent = run_cli("send", cwd=tmp_path)
    assert sent.returncode == 0 and len(smtp_server.messages) == 2


def test_an_uncertain_attempt_after_a_4xx_is_still_the_only_extra_one(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = _desk_with_the_answer_queued(tmp_path, clock, smtp_server)
    smtp_server.drop_after_data()
    desk.deliver()
    clock.advance(timedelta(minutes=2))
    smtp_server.fail_next(451, "4.3.0 try later", at="rcpt")  # nothing taken: certain
    assert desk.deliver().retrying == 1
    smtp_server.drop_after_data()
    clock.advance(timedelta(minutes=10))
    assert desk.deliver().unconfirmed == 1
    assert len(smtp_server.messages) == 2


@pytest.mark.parametrize(
    ("code", "at"), [(421, "rcpt"), (451, "rcpt"), (421, "data"), (451, "data")]
)
def test_4xx_retries_with_backoff_until_max_attempts_and_sends_nothing(
    tmp_path: Path, clock: FrozenClock, smtp_server, code: int, at: str
) -> None:
    desk = _desk_with_the_answer_queued(tmp_path, clock, smtp_server, max_attempts=3)
    before = smtp_server.connections  # the acknowledgement's
    smtp_server.fail_next(code, "4.3.0 try later", count=10, at=at)
    assert desk.deliver().retrying == 1
    clock.advance(timedelta(seconds=59))
    desk.deliver()  # the backoff: not yet
    assert smtp_server.connections == before + 1
    clock.advance(timedelta(seconds=1))
    assert desk.deliver().retrying == 1
    clock.advance(timedelta(minutes=5))
    assert desk.deliver().failed == 1
    assert smtp_server.connections == before + 3  # one transaction per attempt
    assert smtp_server.messages == []  # a 4xx means the server took nothing
    assert (_answer(desk).status, _answer(desk).attempts) == ("failed", 3)
    assert not _timeline(desk, "delivery_uncertain")
    assert desk.stack()[0].reason == "delivery_failed"


@pytest.mark.parametrize("at", ["rcpt", "data"])
def test_550_is_one_attempt_and_the_request_comes_back(
    tmp_path: Path, clock: FrozenClock, smtp_server, at: str
) -> None:
    desk = _desk_with_the_answer_queued(tmp_path, clock, smtp_server)
    smtp_server.fail_next(550, "5.7.1 rejected", count=10, at=at)
    assert desk.deliver().failed == 1
    clock.advance(timedelta(days=1))
    assert desk.deliver().as_dict() == {
        "sent": 0,
        "retrying": 0,
        "failed": 0,
        "unconfirmed": 0,
        "errors": [],
    }
    assert smtp_server.messages == []
    [top] = desk.stack()
    assert (top.number, top.status, top.reason) == (1, "open", "delivery_failed")
    answer = _answer(desk)
    assert (answer.status, answer.attempts) == ("failed", 1)
    assert "550" in (answer.last_error or "")


def test_data_timeout_has_a_lower_bound(tmp_path: Path) -> None:
    for bad in ("0s", 0):
        with pytest.raises(ConfigError) as caught:
            parse_settings({"outgoing": {"data_timeout": bad}}, tmp_path / "config.toml")
        message = str(caught.value)
        assert "outgoing.data_timeout" in message and "at least 1s" in message
        assert "\n" not in message
    assert parse_settings({}).outgoing.data_timeout == timedelta(minutes=10)
