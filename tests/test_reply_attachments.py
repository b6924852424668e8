"""Attachments in answers: the customer receives the files; the desk lists and saves them."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.errors import SupportDeskError
from tests.fixtures import add_agents, drop_into_maildir, make_desk, run_cli, smtp_outgoing
from tests.mailfactory import make_mail

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def _request(desk: Desk, folder: Path) -> int:
    drop_into_maildir(folder, make_mail(message_id="q1@client.example.org"))
    desk.fetch()
    [item] = desk.stack()
    return item.number


def test_customer_receives_the_files_and_the_desk_lists_them(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = make_desk(tmp_path, clock, smtp_outgoing(smtp_server))
    number = _request(desk, tmp_path)
    desk.deliver()
    smtp_server.wait_for(1)  # the acknowledgement
    report = tmp_path / "report.pdf"
    report.write_bytes(PDF)
    notes = tmp_path / "заметки.txt"
    notes.write_text("строка 1\nline 2\n", "utf-8")
    files = [desk.read_attachment(str(report)), desk.read_attachment(str(notes))]
    assert [f.content_type for f in files] == ["application/pdf", "text/plain"]

    desk.reply(number, "Here is the report.", "anna", attachments=files)
    desk.deliver()

    received = smtp_server.wait_for(2)[1].message
    assert received.get_content_type() == "multipart/mixed"
    parts = list(received.iter_parts())
    assert parts[0].get_content_type() == "text/plain"
    assert "Here is the report." in parts[0].get_content()
    assert [p.get_filename() for p in parts[1:]] == ["report.pdf", "заметки.txt"]
    assert parts[1].get_payload(decode=True) == PDF
    assert parts[2].get_payload(decode=True) == notes.read_bytes()

    # The answer on the request screen lists them, and they save like a customer's files.
    detail = desk.request(number)
    answer = detail.messages[-1]
    assert [a.filename for a in answer.attachments] == ["report.pdf", "заметки.txt"]
    assert detail.events[-1]["detail"]["attachments"] == ["report.pdf", "заметки.txt"]
    saved = desk.save_attachment(answer.attachments[0].id, tmp_path / "saved")
    assert saved.read_bytes() == PDF
    desk.close_database()


def test_over_the_limit_is_refused_before_anything_is_stored(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock, {"outgoing": {"attachment_limit": "10MB"}})
    number = _request(desk, tmp_path)
    big = tmp_path / "report.zip"
    with big.open("wb") as f:
        f.truncate(14_000_000)
    with pytest.raises(SupportDeskError) as caught:
        desk.reply(number, "Attached.", "anna", attachments=[desk.read_attachment(str(big))])
    assert str(caught.value) == (
        "report.zip (14 MB) is over the 10 MB limit for an answer's attachments "
        "([outgoing] attachment_limit)"
    )
    assert [m.direction for m in desk.request(number).messages] == ["in", "out"]  # the ack
    with pytest.raises(SupportDeskError, match="cannot attach .*nothing.pdf: no such file"):
        desk.read_attachment(str(tmp_path / "nothing.pdf"))
    desk.close_database()


def test_cli_reply_attach_repeatable_and_with_a_template(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = make_desk(tmp_path, clock, smtp_outgoing(smtp_server))
    number = _request(desk, tmp_path)
    desk.deliver()
    smtp_server.wait_for(1)
    desk.close_database()
    add_agents(tmp_path, "anna")
    (tmp_path / "a.log").write_text("log line\n")
    (tmp_path / "b.bin").write_bytes(b"\x00\x01\x02")
    env = {"SUPPORTDESK_AGENT": "anna", "SUPPORTDESK_NOW": clock.now().isoformat()}
    done = run_cli(
        "requests", "reply", str(number), "--body", "See the files.",
        "--attach", "a.log", "--attach", "b.bin", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 files attached" in done.stderr
    missing = run_cli(
        "requests", "reply", str(number), "--template", "thanks", "--attach", "gone.pdf",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1].endswith("cannot attach gone.pdf: no such file")
    desk = make_desk(tmp_path, clock, smtp_outgoing(smtp_server))
    desk.deliver()
    received = smtp_server.wait_for(2)[1].message
    parts = list(received.iter_parts())
    assert [p.get_filename() for p in parts[1:]] == ["a.log", "b.bin"]
    assert parts[2].get_content_type() == "application/octet-stream"
    assert parts[2].get_payload(decode=True) == b"\x00\x01\x02"
    desk.close_database()


def test_a_trainees_attachments_wait_for_review_and_go_out_on_approval(
    tmp_path: Path, clock: FrozenClock, smtp_server
) -> None:
    desk = make_desk(tmp_path, clock, smtp_outgoing(smtp_server))
    number = _request(desk, tmp_path)
    desk.deliver()
    smtp_server.wait_for(1)
    desk.ensure_agent("tom", name="Tom Trainee")
    desk.set_training("tom", True, "anna")
    (tmp_path / "steps.txt").write_text("1. restart\n")
    steps = desk.read_attachment(str(tmp_path / "steps.txt"))
    held = desk.reply(number, "Try these steps.", "tom", attachments=[steps])
    assert str(held).startswith("review:")
    desk.deliver()
    assert len(smtp_server.messages) == 1  # nothing went out: only the acknowledgement
    [review] = desk.reviews.queue("anna")
    desk.reviews.approve(review.id, "anna")
    desk.deliver()
    received = smtp_server.wait_for(2)[1].message
    parts = list(received.iter_parts())
    assert parts[1].get_filename() == "steps.txt"
    assert parts[1].get_payload(decode=True) == b"1. restart\n"
    desk.close_database()
