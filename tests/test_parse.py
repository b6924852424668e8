"""The parser: forgiving, fast, and never the reason a message is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.mail.automatic import automatic_reason, is_bounce
from supportdesk.mail.parse import attachment_bytes, parse_message
from supportdesk.mail.sanitize import clean_text, display_safe, safe_filename
from tests.fixtures import corpus_or_skip
from tests.mailfactory import make_mail


def test_plain_message_fields() -> None:
    raw = make_mail(message_id="abc@x", in_reply_to="parent@y")
    msg = parse_message(raw)
    assert msg.message_id == "abc@x"
    assert msg.from_addr == "carol@example.org"
    assert msg.from_name == "Carol Customer"
    assert msg.subject == "My invoice is wrong"
    assert "wrong amount" in msg.text
    assert msg.in_reply_to == ["parent@y"]
    assert msg.warnings == []


def test_cyrillic_encoded_subject_and_body() -> None:
    raw = make_mail(
        sender="Иван Петров <ivan@example.ru>",
        subject="Не работает оплата",
        body="Здравствуйте! Счёт не оплачивается.\n",
    )
    msg = parse_message(raw)
    assert msg.subject == "Не работает оплата"
    assert msg.from_name == "Иван Петров"
    assert "Счёт не оплачивается" in msg.text


def test_html_only_mail_becomes_readable_text() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <h@1>\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{color:red}</style></head><body><p>First line</p>"
        b"<p>Second &amp; last <a href='https://example.com/x'>link</a></p>"
        b"<script>alert(1)</script></body></html>"
    )
    msg = parse_message(raw)
    assert msg.html_only
    assert "First line\n" in msg.text
    assert "Second & last link (https://example.com/x)" in msg.text
    assert "alert" not in msg.text and "color" not in msg.text


def test_plain_alternative_preferred_over_html() -> None:
    raw = (
        b"From: a@b.example\r\nMessage-ID: <alt@1>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/alternative; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nplain words\r\n"
        b"--XX\r\nContent-Type: text/html\r\n\r\n<b>html words</b>\r\n--XX--\r\n"
    )
    msg = parse_message(raw)
    assert msg.text == "plain words"
    assert not msg.html_only


def test_attachment_kept_as_range_and_decoded_on_demand() -> None:
    payload = bytes(range(256)) * 40
    raw = make_mail(attachment=("report.bin", payload))
    msg = parse_message(raw)
    assert len(msg.attachments) == 1
    att = msg.attachments[0]
    assert att.filename == "report.bin"
    assert attachment_bytes(raw, att) == payload


def test_unknown_charset_falls_back_with_warning() -> None:
    raw = (
        b"From: a@b.example\r\nMessage-ID: <cs@1>\r\n"
        b"Content-Type: text/plain; charset=fakescii\r\n\r\nhello caf\xc3\xa9\r\n"
    )
    msg = parse_message(raw)
    assert "café" in msg.text
    assert any("unknown charset" in w for w in msg.warnings)


def test_missing_message_id_is_a_stable_hash() -> None:
    raw = b"From: a@b.example\r\nSubject: no id\r\n\r\nbody\r\n"
    first, second = parse_message(raw), parse_message(raw)
    assert first.message_id_synthesized
    assert first.message_id == second.message_id
    assert first.message_id != parse_message(raw + b"x").message_id


def test_no_headers_at_all() -> None:
    msg = parse_message(b"just some text\nwithout any header\n")
    assert "message has no headers" in msg.warnings
    assert "without any header" in msg.text


def test_hostile_subject_is_cleaned_of_escapes() -> None:
    raw = make_mail(subject="[bold red]x[/] \x1b[31mred\x1b[0m \x1b]0;pwned\x07title")
    msg = parse_message(raw)
    assert "\x1b" not in msg.subject
    assert "pwned" not in msg.subject
    assert msg.subject.startswith("[bold red]x[/]")  # kept literally; rendering must not parse it


def test_sanitisers() -> None:
    assert clean_text("a\x1b[2Jb\x07c\r\nd") == "abc\nd"
    assert display_safe("abc\u202edcba") == "abcdcba"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("..\\..\\boot.ini") == "boot.ini"
    assert safe_filename("") == "attachment"
    assert safe_filename("CON.txt") == "_CON.txt"
    assert len(safe_filename("x" * 400 + ".pdf").encode()) <= 200


def test_rfc3834_and_robots_are_automatic() -> None:
    def reason(**headers: str) -> str | None:
        sender = headers.pop("sender", "Carol <carol@example.org>")
        return automatic_reason(parse_message(make_mail(sender=sender, headers=headers)))

    assert reason() is None
    assert reason(**{"Auto-Submitted": "auto-replied"})
    assert reason(**{"Auto-Submitted": "no"}) is None
    assert reason(Precedence="bulk")
    assert reason(**{"List-Id": "<users.lists.example.org>"})
    assert reason(**{"Return-Path": "<>"})
    assert reason(sender="noreply@shop.example")
    assert reason(sender="MAILER-DAEMON@mx.example")
    assert reason(**{"X-Autoreply": "yes"})


def test_bounce_carries_original_message_id() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example\r\nTo: support@example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b@mx>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <sd.1.abc@example.com>\r\nSubject: Re: x [#4]\r\n--B--\r\n"
    )
    msg = parse_message(raw)
    assert is_bounce(msg)
    assert msg.embedded_message_ids == ["sd.1.abc@example.com"]


@pytest.mark.slow
def test_whole_corpus_parses_without_raising() -> None:
    corpus = corpus_or_skip()
    count = 0
    for path in corpus.rglob("*"):
        if path.is_file() and path.name != "SOURCES.md":
            msg = parse_message(path.read_bytes())
            assert msg.message_id
            count += 1
    assert count > 8000


def dated(value: str) -> bytes:
    """A message whose Date: header is `value`, byte for byte."""
    raw = make_mail(message_id="dated@x")
    head, sep, body = raw.partition(b"\n\n")
    lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"date:")]
    return b"\n".join([*lines, b"Date: " + value.encode()]) + sep + body


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # RFC 5322 section 4.3: two-digit years 00-49 are 20xx, 50-99 are 19xx ...
        ("Fri, 21 Nov 97 09:55:06 GMT", "1997-11-21 09:55:06"),
        ("Sat, 1 Jan 55 12:00:00 +0000", "1955-01-01 12:00:00"),
        ("1 Jan 49 00:00:00 +0000", "2049-01-01 00:00:00"),
        ("Mon, 3 Feb 03 10:00:00 +0100", "2003-02-03 09:00:00"),
        ("15 Mar 00 08:30 -0500", "2000-03-15 13:30:00"),
        # ... and a three-digit year has 1900 added.
        ("1 Jan 101 00:00:00 +0000", "2001-01-01 00:00:00"),
        ("Tue, 21 Nov 097 09:55:06 GMT", "1997-11-21 09:55:06"),
        ("Tue, 31 Dec 125 23:00:00 -0200", "2026-01-01 01:00:00"),
        # The modern syntax is unchanged.
        ("Mon, 5 Jan 2026 08:00:00 +0000", "2026-01-05 08:00:00"),
        ("Thu, 1 Jan 1970 00:00:00 +0000", "1970-01-01 00:00:00"),
    ],
)
def test_obsolete_two_and_three_digit_years(header: str, expected: str) -> None:
    msg = parse_message(dated(header))
    assert msg.date is not None
    assert msg.date.strftime("%Y-%m-%d %H:%M:%S") == expected
    assert msg.date.utcoffset() == timedelta(0)
    assert not [w for w in msg.warnings if w.startswith("Date")]


@pytest.mark.parametrize(
    "header",
    [
        "1 Jan 0000 00:00:00 +0000",  # there is no year 0
        "1 Jan 0050 00:00:00 +0000",  # a four-digit year is taken as written
        "1 Jan 99999 00:00:00 +0000",  # beyond what datetime holds
        "31 Dec 9999 23:59:59 -0100",  # beyond, once in UTC
        "1 Jan 0001 00:30:00 +0100",  # before year 1, once in UTC
        "1 Jan 0001 00:00:00 +0000",  # would not survive being shown in a western time zone
        "1 Jan 2026 00:00:00 +2400",  # an offset of a whole day or more
        "1 Jan 2026 00:00:00 -9959",
        "32 Jan 2026 00:00:00 +0000",
        "1 Jan 2026 25:00:00 +0000",
        "yesterday, around noon",
        "Mon, 5 Jan",
    ],
)
def test_a_date_that_cannot_be_represented_is_unknown_and_says_so(header: str) -> None:
    msg = parse_message(dated(header))
    assert msg.date is None
    assert any(w.startswith("Date: unreadable") for w in msg.warnings), msg.warnings
