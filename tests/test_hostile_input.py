"""Hostile and broken mail is stored, shown inert, and never escapes the data folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

from supportdesk.clock import FrozenClock
from tests.fixtures import drop_into_maildir, make_desk, run_cli
from tests.mailfactory import make_mail

HOSTILE_SUBJECT = "[bold red]x[/] \x1b[31mred\x1b[0m \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"


def test_markup_and_escape_sequences_are_stored_and_shown_inert(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path, make_mail(subject=HOSTILE_SUBJECT, body="[blink]hi[/blink] \x1b[2J cleared?\n")
    )
    desk.fetch()
    desk.close_database()
    shown = run_cli("requests", "show", "1", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "[bold red]x[/]" in shown.stdout
    assert "[blink]hi[/blink]" in shown.stdout
    assert "\x1b" not in shown.stdout
    listed = run_cli("requests", "list", "--json", cwd=tmp_path)
    [request] = json.loads(listed.stdout)
    assert request["subject"].startswith("[bold red]x[/] red link")
    assert "\x1b" not in listed.stdout


def test_huge_header_line_no_headers_and_30mb_message_are_stored(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    long_header = make_mail(message_id="long@x", headers={"X-Junk": "a" * 1_000_000})
    no_headers = b"Hello, I have no headers at all.\nPlease help.\n"
    big = make_mail(message_id="big@x", attachment=("data.bin", os.urandom(22_000_000)))
    assert len(big) > 29_000_000
    drop_into_maildir(tmp_path, long_header, no_headers, big)
    report = desk.fetch()
    assert report.intake.stored == 3
    requests = desk.list_requests()
    assert len(requests) == 3
    by_subject = {r.subject: r.number for r in requests}
    headless = desk.request(by_subject["(no subject)"])
    assert "message has no headers" in headless.messages[0].warnings
    assert "Please help." in headless.messages[0].text
    bigmsg = [
        m for r in requests for m in desk.request(r.number).messages if m.message_id == "big@x"
    ][0]
    assert bigmsg.attachments[0].filename == "data.bin"


def test_attachment_name_cannot_escape_the_chosen_folder(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(attachment=("../../etc/passwd", b"root:x:0:0\n")))
    desk.fetch()
    [msg] = desk.request(1).messages[:1]
    [att] = msg.attachments
    assert att.filename == "passwd"
    target_folder = tmp_path / "saved"
    saved = desk.save_attachment(att.id, target_folder)
    assert saved.parent == target_folder.resolve()
    assert saved.read_bytes() == b"root:x:0:0\n"
    again = desk.save_attachment(att.id, target_folder)
    assert again.name == "passwd (1)" and again.parent == target_folder.resolve()
    assert not (tmp_path / "etc").exists()
