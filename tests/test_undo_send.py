"""Undo send: an agent's reply waits `[outgoing] undo_seconds` in the outbox; taken back
meanwhile it is never received, and the request and the draft are as before. Against the
real SMTP server (aiosmtpd), with a moved clock; the race of undo and delivery on two desks."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.errors import SupportDeskError
from tests.fixtures import drop_into_maildir, make_desk, smtp_outgoing
from tests.mailfactory import make_mail

ANSWER = "Please update to version 2.3: the export works there."
SECOND = timedelta(seconds=1)


def _config(server: Any, seconds: int = 10) -> dict[str, Any]:
    config = smtp_outgoing(server)
    config["outgoing"]["undo_seconds"] = seconds
    return config


def _asked(folder: Path, clock: FrozenClock, server: Any, seconds: int = 10) -> Desk:
    """Carol asked (#1); her acknowledgement is delivered already."""
    desk = make_desk(folder, clock, _config(server, seconds))
    drop_into_maildir(
        folder,
        make_mail(
            subject="Export fails",
            body="The export fails.\n",
            message_id="carol.1@example.org",
        ),
    )
    desk.fetch()
    assert desk.deliver().sent == 1  # the acknowledgement goes out at once
    server.clear()
    return desk


def _answers(server: Any) -> list[str]:
    return [
        r.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for r in server.messages
    ]


def _thread(desk: Desk) -> list[str]:
    return [m.kind for m in desk.request(1).messages if m.direction == "out"]


def test_a_reply_undone_in_time_is_never_received(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _asked(tmp_path, clock, smtp_server)
    before = desk.request(1).request
    message_id = desk.reply(1, ANSWER, "anna")
    assert desk.request(1).request.status == "waiting"
    assert desk.deliver().sent == 0  # waits for the undo window
    assert desk.sending.undo_until(message_id) == clock.now() + 10 * SECOND

    clock.advance(9 * SECOND)
    unsent = desk.sending.unsend(message_id, "anna")
    assert unsent.text == ANSWER and unsent.restored

    after = desk.request(1).request
    assert (after.status, after.reason, after.message_count) == (
        before.status,
        before.reason,
        before.message_count,
    )
    assert after.first_response_at is None  # it was never answered
    assert _thread(desk) == ["ack"]  # gone from the thread
    assert desk.outbox_counts() == {"sent": 1}
    draft = desk.draft(1, "anna")
    assert draft is not None and draft.text == ANSWER
    kinds = [e["kind"] for e in desk.request(1).events]
    assert kinds[-1] == "unsend" and "unsent_reply" in kinds and "reply" not in kinds
    assert desk.today().answered == 0  # not counted as an answer
    assert [r.number for r in desk.stack()] == [1]  # back on the stack

    clock.advance(timedelta(minutes=5))
    assert desk.deliver().sent == 0
    assert smtp_server.messages == []


def test_a_reply_not_undone_is_received_once_after_the_window(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _asked(tmp_path, clock, smtp_server)
    message_id = desk.reply(1, ANSWER, "anna")
    clock.advance(9 * SECOND)
    assert desk.deliver().sent == 0
    clock.advance(SECOND)
    assert desk.deliver().sent == 1
    assert desk.deliver().sent == 0
    assert len(smtp_server.messages) == 1 and ANSWER in _answers(smtp_server)[0]
    assert smtp_server.messages[0].recipients == ["carol@example.org"]
    with pytest.raises(SupportDeskError, match="already on its way to carol@example.org"):
        desk.sending.unsend(message_id, "anna")
    assert desk.request(1).request.status == "waiting"
    assert _thread(desk) == ["ack", "reply"]


def test_too_late_once_the_window_passed_even_before_delivery(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _asked(tmp_path, clock, smtp_server)
    message_id = desk.reply(1, ANSWER, "anna")
    clock.advance(10 * SECOND)
    assert desk.sending.undo_until(message_id) is None
    with pytest.raises(SupportDeskError) as caught:
        desk.sending.unsend(message_id, "anna")
    assert str(caught.value) == "too late: the reply is already on its way to carol@example.org"
    assert desk.deliver().sent == 1


def test_only_the_writer_takes_a_reply_back(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _asked(tmp_path, clock, smtp_server)
    desk.ensure_agent("bob")
    message_id = desk.reply(1, ANSWER, "anna")
    with pytest.raises(SupportDeskError, match="only its writer"):
        desk.unsend(message_id, "bob")
    assert desk.unsend(message_id, "anna") == ANSWER
    assert _thread(desk) == ["ack"]


def test_undo_seconds_zero_sends_at_the_next_round(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _asked(tmp_path, clock, smtp_server, seconds=0)
    message_id = desk.reply(1, ANSWER, "anna")
    assert desk.sending.undo_until(message_id) is None
    assert desk.deliver().sent == 1


def test_send_and_close_undone_reopens_as_before(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _asked(tmp_path, clock, smtp_server)
    message_id = desk.reply(1, ANSWER, "anna", close="resolved")
    closed = desk.request(1).request
    assert (closed.status, closed.close_reason) == ("closed", "resolved")
    desk.sending.unsend(message_id, "anna")
    back = desk.request(1).request
    assert (back.status, back.close_reason, back.closed_at) == ("new", None, None)
    kinds = [e["kind"] for e in desk.request(1).events]
    assert "close" not in kinds and "unsent_close" in kinds
    figures = desk.stats(clock.now() - timedelta(days=1), clock.now() + timedelta(days=1)).total
    assert (figures.answered, figures.first_answers, figures.closed) == (0, 0, {})


def test_a_customer_writing_meanwhile_keeps_the_request_on_the_stack(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _asked(tmp_path, clock, smtp_server)
    message_id = desk.reply(1, ANSWER, "anna")
    clock.advance(2 * SECOND)
    drop_into_maildir(
        tmp_path,
        make_mail(
            subject="Re: Export fails [#1]",
            body="Also the import fails.\n",
            message_id="carol.2@example.org",
            in_reply_to="carol.1@example.org",
        ),
    )
    desk.fetch()
    unsent = desk.sending.unsend(message_id, "anna")
    assert not unsent.restored
    request = desk.request(1).request
    assert (request.status, request.reason) == ("open", "customer_reply")
    assert request.message_count == 3  # two from Carol, the ack
    clock.advance(timedelta(minutes=1))
    desk.deliver()
    assert smtp_server.messages == [] or ANSWER not in "".join(_answers(smtp_server))


def _race(folder: Path, smtp_server: Any, start: FrozenClock) -> None:
    """Anna takes back her reply at the last instant of the window while another desk's
    worker (its clock a moment ahead) delivers: exactly one wins, and the desk agrees."""
    clock = FrozenClock(start.now())
    desk = _asked(folder, clock, smtp_server)
    worker_clock = FrozenClock(clock.now())
    worker = make_desk(folder, worker_clock, _config(smtp_server))
    message_id = desk.reply(1, ANSWER, "anna")
    clock.advance(10 * SECOND - timedelta(milliseconds=1))
    worker_clock.advance(10 * SECOND)
    barrier = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def undo() -> None:
        barrier.wait()
        try:
            outcome["undo"] = desk.sending.unsend(message_id, "anna")
        except SupportDeskError as exc:
            outcome["undo"] = exc

    def deliver() -> None:
        barrier.wait()
        outcome["sent"] = worker.deliver().sent

    threads = [threading.Thread(target=undo), threading.Thread(target=deliver)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    received = [a for a in _answers(smtp_server) if ANSWER in a]
    undone = not isinstance(outcome["undo"], Exception)
    assert len(received) == (0 if undone else 1), outcome
    assert outcome["sent"] == (0 if undone else 1)
    clock.advance(timedelta(minutes=10))
    assert desk.deliver().sent == 0  # never a second copy
    assert len([a for a in _answers(smtp_server) if ANSWER in a]) == len(received)
    assert _thread(desk) == (["ack"] if undone else ["ack", "reply"])
    assert desk.request(1).request.status == ("new" if undone else "waiting")
    if not undone:
        assert "already on its way to carol@example.org" in str(outcome["undo"])
    worker.close_database()
    desk.close_database()
    smtp_server.clear()


@pytest.mark.slow
def test_undo_racing_delivery_sends_once_or_never(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    for n in range(6):
        _race(tmp_path / f"desk{n}", smtp_server, clock)


def test_an_undone_reply_comes_back_with_the_files_the_draft_had_attached(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    desk = _asked(tmp_path, clock, smtp_server)
    log = tmp_path / "export.log"
    log.write_text("line 1\n")
    desk.save_draft(1, "anna", ANSWER, None, [str(log)])
    message_id = desk.reply(1, ANSWER, "anna", attachments=[desk.read_attachment(str(log))])
    assert desk.draft(1, "anna") is None  # sent: the draft is done with

    desk.sending.unsend(message_id, "anna")
    draft = desk.draft(1, "anna")
    assert draft is not None and (draft.text, draft.attachments) == (ANSWER, [str(log)])
    clock.advance(11 * SECOND)
    assert desk.deliver().sent == 0 and smtp_server.messages == []


def test_an_undone_reply_gives_the_writer_back_the_claim_unless_someone_took_it(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    """Anna had #1 claimed while she answered; taking the answer back, she is still the one
    working on it (the stack does not offer it to the next agent) — unless bob claimed it in
    the seconds between."""
    desk = _asked(tmp_path, clock, smtp_server)
    assert desk.claim(1, "anna")
    message_id = desk.reply(1, ANSWER, "anna")
    assert desk.request(1).request.claimed_by is None  # an answer ends the claim
    desk.sending.unsend(message_id, "anna")
    assert desk.request(1).request.claimed_by == "anna"
    assert desk.claim_next("bob") is None  # the only request is anna's again

    message_id = desk.reply(1, ANSWER, "anna")
    assert desk.claim(1, "bob")
    desk.sending.unsend(message_id, "anna")
    back = desk.request(1).request
    assert (back.status, back.claimed_by) == ("new", "bob")


def test_requests_unsend_takes_a_scripted_reply_back(
    tmp_path: Path, clock: FrozenClock, smtp_server: Any
) -> None:
    """A script (or an admin) that sent with `requests reply` takes it back with the printed
    Message-ID; once the window has passed it gets one line, and the customer the reply."""
    import json

    from tests.fixtures import run_cli

    desk = _asked(tmp_path, clock, smtp_server)
    env = {"SUPPORTDESK_NOW": clock.now().isoformat()}
    sent = run_cli(
        "--agent", "anna", "requests", "reply", "1", "--body", ANSWER, "--json",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    message_id = json.loads(sent.stdout)["message_id"]
    back = run_cli("--agent", "anna", "requests", "unsend", message_id, cwd=tmp_path, env=env)
    assert back.returncode == 0, back.stderr
    assert back.stderr.strip() == (
        "Reply to #1 taken back: it will not be sent; the text is in your draft."
    )
    assert desk.draft(1, "anna") is not None and desk.draft(1, "anna").text == ANSWER
    clock.advance(11 * SECOND)
    assert desk.deliver().sent == 0 and _answers(smtp_server) == []

    sent = run_cli(
        "--agent", "anna", "requests", "reply", "1", "--body", ANSWER, "--json",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    message_id = json.loads(sent.stdout)["message_id"]
    later = {"SUPPORTDESK_NOW": (clock.now() + 11 * SECOND).isoformat()}
    late = run_cli(
        "--agent", "anna", "requests", "unsend", message_id, "--json", cwd=tmp_path, env=later
    )
    assert late.returncode == 1
    assert late.stderr.strip() == (
        "supportdesk: too late: the reply is already on its way to carol@example.org"
    )
    clock.advance(11 * SECOND)
    assert desk.deliver().sent == 1
    assert [a.splitlines()[0] for a in _answers(smtp_server)] == [ANSWER]
