"""Hostile and broken mail is stored, shown inert, and never escapes the data folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from tests.databases import ON_POSTGRESQL, database_url, rows
from tests.fixtures import drop_into_maildir, make_desk, run_cli, write_config
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


@pytest.mark.slow  # a 30 MB message: over 2 s
def test_huge_header_line_no_headers_and_30mb_message_are_stored(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    long_header = make_mail(
        message_id="long@x", headers={"X-Junk": "a" * 1_000_000}, body="A long header."
    )
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


def test_control_characters_in_ids_and_addresses_are_refused(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """A NUL in a Message-ID, a reference or an address makes them malformed (and PostgreSQL
    cannot store one): the mail is stored all the same, without them."""
    desk = make_desk(tmp_path, clock)
    raw = (
        b"From: Ma\x00llory <mal\x00lory@example.org>\r\nTo: support@example.com\r\n"
        b"Subject: hi\x00there\r\nMessage-ID: <c\x00d@x>\r\nIn-Reply-To: <e\x00f@x>\r\n"
        b"References: <a\x00b@x> <g@h>\r\nReply-To: <r\x01@example.org>\r\n"
        b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n"
        b"--BB\r\nContent-Type: text/plain\r\n\r\nbody\x00text\r\n"
        b"--BB\r\nContent-Type: appli\x00cation/pdf\r\nContent-Transfer-Encoding: base\x0064\r\n"
        b'Content-Disposition: attachment; filename="f\x00.pdf"\r\n\r\nJVBERi0=\r\n--BB--\r\n'
    )
    drop_into_maildir(tmp_path, raw)
    assert desk.fetch().intake.stored == 1
    [message] = desk.request(1).messages[:1]
    [attachment] = message.attachments
    stored = [message.message_id, message.from_addr, message.subject, message.text]
    stored += [attachment.filename, attachment.content_type]
    assert not any("\x00" in value for value in stored), stored
    assert message.message_id.endswith("@supportdesk.invalid")  # a hash of the mail stands in
    assert "Message-ID is malformed; a hash of the message stands in" in message.warnings


def dated(subject: str, date: str) -> bytes:
    """A customer's message whose Date: header is `date`, byte for byte."""
    raw = make_mail(subject=subject, message_id=f"{subject.replace(' ', '.')}@x")
    head, sep, body = raw.partition(b"\n\n")
    lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"date:")]
    return b"\n".join([*lines, f"Date: {date}".encode()]) + sep + body


# Dates a real mailbox holds: RFC 5322's obsolete syntax, and ones that cannot be represented.
ODD_DATES = {
    "three digit year": ("1 Jan 101 00:00:00 +0000", "2001-01-01T00:00:00+00:00"),
    "two digit year": ("Fri, 21 Nov 97 09:55:06 GMT", "1997-11-21T09:55:06+00:00"),
    "fifties": ("Sat, 1 Jan 55 12:00:00 +0000", "1955-01-01T12:00:00+00:00"),
    "year zero": ("1 Jan 0000 00:00:00 +0000", None),
    "year 99999": ("1 Jan 99999 00:00:00 +0000", None),
    "first day": ("1 Jan 0001 00:00:00 +0000", None),
    "last second": ("31 Dec 9999 23:59:59 -0100", None),
    "offset too big": ("1 Jan 2026 00:00:00 +2400", None),
}


def test_a_date_in_the_obsolete_syntax_or_beyond_reach_never_breaks_a_listing(
    tmp_path: Path,
) -> None:
    """RFC 5322 section 4.3 years are read as it says; a date that still cannot be represented
    is stored as unknown, with a warning, and the raw header stays in the raw message."""
    write_config(tmp_path, {"outgoing": {"kind": "none"}})
    folder = tmp_path / "old mail"
    folder.mkdir()
    for n, (subject, (header, _)) in enumerate(ODD_DATES.items()):
        (folder / f"{n}.eml").write_bytes(dated(subject, header))
    imported = run_cli("import", str(folder), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr

    listed = run_cli("requests", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    numbers = {r["subject"]: r["number"] for r in json.loads(listed.stdout)}
    assert set(numbers) == set(ODD_DATES)
    for args in (["requests", "list"], ["stack"], ["search", "invoice"]):
        shown = run_cli(*args, cwd=tmp_path)
        assert shown.returncode == 0, (args, shown.stderr)
        assert "three digit year" in shown.stdout and "offset too big" in shown.stdout, args
    stored = dict(rows(tmp_path, "SELECT message_id, date FROM message") or [])
    for subject, (header, expected) in ODD_DATES.items():
        shown = run_cli("requests", "show", str(numbers[subject]), "--json", cwd=tmp_path)
        assert shown.returncode == 0, (subject, shown.stderr)
        [message] = json.loads(shown.stdout)["messages"]
        assert (stored[f"{subject.replace(' ', '.')}@x"] is None) == (expected is None), subject
        if expected is None:
            assert any(w.startswith("Date: unreadable") for w in message["warnings"]), subject
            assert header.encode() in dated(subject, header)  # the raw message keeps it
        else:
            assert message["date"] == expected, subject
            assert not message["warnings"], subject
    for subject in ("three digit year", "year zero"):
        human = run_cli("requests", "show", str(numbers[subject]), cwd=tmp_path)
        assert human.returncode == 0 and subject in human.stdout, (subject, human.stderr)


BAD_STORED_DATES = [
    # request #2: none of its times can be read
    "UPDATE request SET created_at = 'yesterday', pushed_at = '101-01-01 00:00:00.000000', "
    "updated_at = 12345, first_response_at = '', sla_due_at = '2026-99-99 00:00:00', "
    "last_inbound_at = x'00ff', claimed_until = 'soon' WHERE id = 2",
    "UPDATE message SET date = '0000-00-00 00:00:00', received_at = 'not a date' "
    "WHERE request_id = 2",
    # request #3: written by an old version, or beyond what a local time can show
    "UPDATE request SET pushed_at = '1 Jan 97', created_at = '0001-01-01 00:00:00.000000' "
    "WHERE id = 3",
    "UPDATE message SET date = '9999-12-31 23:59:59.999999', received_at = 3.5 "
    "WHERE request_id = 3",
]
# PostgreSQL refuses malformed text, but holds times Python cannot.
BAD_STORED_DATES_POSTGRESQL = [
    "UPDATE request SET created_at = 'infinity', pushed_at = '-infinity', "
    "updated_at = '10000-01-01', first_response_at = '0001-01-01 BC', "
    "sla_due_at = '294276-01-01', claimed_until = 'infinity' WHERE id = 2",
    "UPDATE message SET date = '-infinity', received_at = '0044-03-15 BC' WHERE request_id = 2",
    "UPDATE request SET created_at = '0001-01-01 00:00:00', pushed_at = '12345-06-07' WHERE id = 3",
    "UPDATE message SET date = '9999-12-31 23:59:59.999999', received_at = 'infinity' "
    "WHERE request_id = 3",
]


def write_straight_into_the_database(folder: Path, statements: list[str]) -> None:
    if not ON_POSTGRESQL:
        import sqlite3

        with sqlite3.connect(folder / "desk.db") as db:
            for statement in statements:
                db.execute(statement)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url(folder), poolclass=NullPool)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


@pytest.mark.slow
async def test_a_malformed_stored_date_never_makes_a_listing_fail(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """A row written before dates were checked, or a hand-edited database: each listing still
    shows every request, the bad time left out."""
    from supportdesk.ui import make_app
    from supportdesk.ui.screens.request import RequestScreen
    from tests.test_console import SIZE, settle, stack_numbers, thread_text

    desk = make_desk(tmp_path, clock)
    subjects = {1: "Printer on fire", 2: "Broken dates", 3: "Old dates", 4: "Refund please"}
    for subject in subjects.values():
        drop_into_maildir(tmp_path, make_mail(subject=subject, body=f"About {subject}, invoice"))
        desk.fetch()
    desk.close_database()
    write_straight_into_the_database(
        tmp_path, BAD_STORED_DATES_POSTGRESQL if ON_POSTGRESQL else BAD_STORED_DATES
    )

    listed = run_cli("requests", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert {r["number"]: r["subject"] for r in json.loads(listed.stdout)} == subjects
    for args in (["requests", "list"], ["stack"], ["search", "invoice"]):
        shown = run_cli(*args, cwd=tmp_path)
        assert shown.returncode == 0, (args, shown.stderr)
        assert all(subject in shown.stdout for subject in subjects.values()), (args, shown.stdout)
    for number in (2, 3):
        shown = run_cli("requests", "show", str(number), cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert f"About {subjects[number]}, invoice" in shown.stdout
        as_json = run_cli("requests", "show", str(number), "--json", cwd=tmp_path)
        assert as_json.returncode == 0, as_json.stderr
        detail = json.loads(as_json.stdout)
        assert detail["subject"] == subjects[number]
        assert detail["created_at"] is None  # unreadable: left out, not guessed
        assert detail["messages"][0]["date"] is None
        assert "date unknown" in shown.stdout

    desk = make_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert sorted(stack_numbers(pilot)) == [1, 2, 3, 4]
        for number in (2, 3):
            app.open_request(number)
            await settle(pilot)
            assert isinstance(app.screen, RequestScreen) and app.screen.number == number
            assert f"About {subjects[number]}, invoice" in thread_text(app.screen)
            await pilot.press("escape")
            await settle(pilot)
    desk.close_database()
