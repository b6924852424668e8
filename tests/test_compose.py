"""compose(): RFC 5322 output that parses back to exactly what went in, and no header injection."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from supportdesk.mail.compose import Draft, compose, make_message_id, new_message_id_domain
from supportdesk.mail.parse import parse_message

WHEN = datetime(2024, 5, 1, 12, 30, 5, tzinfo=timezone(timedelta(hours=3)))


def draft(**kw: object) -> Draft:
    fields: dict[str, object] = {
        "from_addr": "support@example.com",
        "from_name": "Anna at Acme Support",
        "to": ["customer@example.org"],
        "subject": "[#42] Your order",
        "text": "Hello,\n\nyour order has shipped.\n\n-- \nAnna\n",
        "message_id": "sd.1714555805000.abcdef@example.com",
        "date": WHEN,
    }
    fields.update(kw)
    return Draft(**fields)  # type: ignore[arg-type]


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def body(msg: email.message.EmailMessage) -> str:
    return msg.get_content().replace("\r\n", "\n")


def assert_wire_format(raw: bytes) -> None:
    """CRLF only, 7-bit, no line over 998 octets (RFC 5322 2.1.1)."""
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [
        line.split(":", 1)[0].lower()
        for line in head.split("\r\n")
        if line and not line[0].isspace()
    ]


def test_ascii_round_trip() -> None:
    d = draft(
        in_reply_to="<orig.1@customer.example.org>",
        references=["r0@x.example"],
        cc=["boss@example.org"],
        reply_to="support+42@example.com",
    )
    raw = compose(d)
    assert_wire_format(raw)
    msg = parse(raw)
    assert msg["From"].addresses[0].display_name == "Anna at Acme Support"
    assert msg["From"].addresses[0].addr_spec == "support@example.com"
    assert [a.addr_spec for a in msg["To"].addresses] == ["customer@example.org"]
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["boss@example.org"]
    assert msg["Reply-To"].addresses[0].addr_spec == "support+42@example.com"
    assert msg["Subject"] == "[#42] Your order"
    assert msg["Message-ID"] == "<sd.1714555805000.abcdef@example.com>"
    assert msg["In-Reply-To"] == "<orig.1@customer.example.org>"
    assert msg["References"].split() == ["<r0@x.example>", "<orig.1@customer.example.org>"]
    assert msg["Date"].datetime == WHEN
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg["Content-Transfer-Encoding"] == "7bit"
    assert body(msg) == d.text
    assert "bcc" not in header_names(raw)
    assert "auto-submitted" not in header_names(raw)


def test_cyrillic_round_trip() -> None:
    name = 'Анна "лучшая", Поддержка Acme'
    subject = "[#7] Ваш заказ задерживается — " + "очень длинная тема " * 6
    text = "Здравствуйте, Иван!\n\nВаш заказ №123 отправлен.\n" + "Ёжик " * 300 + "\n"
    raw = compose(draft(from_name=name, subject=subject, text=text))
    assert_wire_format(raw)
    assert re.search(rb"^Subject: .*=\?utf-8\?", raw, re.M)  # RFC 2047
    msg = parse(raw)
    assert msg["From"].addresses[0].display_name == name
    assert msg["Subject"] == subject.strip()
    assert msg["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    assert body(msg) == text
    # The desk's own parser reads it the same way (a name without "," or quotes: the
    # parser decodes RFC 2047 words before splitting the address list).
    parsed = parse_message(
        compose(draft(from_name="Анна из Поддержки", subject=subject, text=text))
    )
    assert parsed.subject == subject.strip()
    assert parsed.from_name == "Анна из Поддержки"
    assert parsed.text.strip() == text.strip()


def test_long_ascii_lines_are_wrapped_but_preserved() -> None:
    text = "x" * 2000 + "\n" + "short line\n" + ".leading dot\n" + "From the start\n"
    raw = compose(draft(text=text))
    assert_wire_format(raw)
    msg = parse(raw)
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert body(msg) == text


def test_crlf_and_lone_cr_in_body_become_line_breaks() -> None:
    msg = parse(compose(draft(text="one\r\ntwo\rthree\x00\x07 four")))
    assert body(msg) == "one\ntwo\nthree four\n"


def test_auto_submitted_headers() -> None:
    msg = parse(compose(draft(auto_submitted=True)))
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"


def test_extra_headers_and_reserved_names() -> None:
    msg = parse(compose(draft(extra_headers={"X-SupportDesk-Request": "42", "X-Note": "Пометка"})))
    assert msg["X-SupportDesk-Request"] == "42"
    assert msg["X-Note"] == "Пометка"
    with pytest.raises(ValueError):
        compose(draft(extra_headers={"Bcc": "evil@example.net"}))
    with pytest.raises(ValueError):
        compose(draft(extra_headers={"\r\n": "x"}))


@pytest.mark.parametrize(
    "kw",
    [
        {"subject": "hi\r\nBcc: evil@x.example"},
        {"subject": "hi\nBcc: evil@x.example\n\nbody"},
        {"subject": "hi\rBcc: evil@x.example"},
        {"from_name": "Anna\r\nBcc: evil@x.example"},
        {"from_name": "Анна\nBcc: evil@x.example"},
        {"extra_headers": {"X-Tag": "a\r\nBcc: evil@x.example"}},
        {"extra_headers": {"X-Tag\r\nBcc": "evil@x.example"}},
        {"in_reply_to": "a@b\r\nBcc: evil@x.example"},
        {"references": ["a@b\r\nBcc: evil@x.example"]},
        {"message_id": "id@b\r\nBcc: evil@x.example"},
        {"to": ["customer@example.org\r\n"]},
    ],
)
def test_header_injection_is_flattened(kw: dict[str, object]) -> None:
    raw = compose(draft(**kw))
    assert_wire_format(raw)
    names = header_names(raw)
    assert "bcc" not in names
    msg = parse(raw)
    assert msg["Bcc"] is None
    assert len(msg.get_all("Subject")) == 1
    assert len(msg.get_all("From")) == 1
    assert [a.addr_spec for a in msg["To"].addresses] == ["customer@example.org"]
    assert body(msg) == draft().text
    for value in msg.values():
        assert "\n" not in str(value) and "\r" not in str(value)


@pytest.mark.parametrize(
    "kw",
    [
        {"to": ["customer@example.org\r\nBcc: evil@x.example"]},
        {"to": ["customer@example.org, evil@x.example"]},
        {"cc": ["not an address"]},
        {"from_addr": "support@example.com>\r\nBcc: <evil@x.example"},
        {"to": []},
        {"message_id": "<>"},
        {"date": datetime(2024, 1, 1)},  # naive
    ],
)
def test_unusable_values_are_refused(kw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        compose(draft(**kw))


def test_display_name_with_specials() -> None:
    for name in [
        "Smith, John",
        'O"Brien (Support)',
        "<script>",
        "a\\b",
        "Ёлка; ёж",
        'Анна "лучшая", Поддержка',
        "",
    ]:
        msg = parse(compose(draft(from_name=name)))
        assert msg["From"].addresses[0].display_name == name
        assert msg["From"].addresses[0].addr_spec == "support@example.com"


def test_message_ids() -> None:
    ids = {make_message_id("example.com") for _ in range(200)}
    assert len(ids) == 200
    for mid in ids:
        assert re.fullmatch(r"sd\.\d+\.[0-9a-f]{16}@example\.com", mid)
    assert new_message_id_domain("support@Example.COM") == "example.com"
    assert new_message_id_domain("Anna <help@desk.example.org>") == "desk.example.org"
    assert new_message_id_domain("support@пример.рф") == "xn--e1afmkfd.xn--p1ai"
    assert new_message_id_domain("") == "localhost"
    assert new_message_id_domain("<>") == "localhost"
    assert make_message_id("bad domain\r\n").endswith("@baddomain")


def test_internationalised_domain_is_idna_encoded_and_local_part_refused() -> None:
    msg = parse(compose(draft(to=["ivan@пример.рф"])))
    assert msg["To"].addresses[0].addr_spec == "ivan@xn--e1afmkfd.xn--p1ai"
    with pytest.raises(ValueError, match="SMTPUTF8"):
        compose(draft(to=["иван@example.org"]))


def test_date_in_utc_and_other_zones() -> None:
    now = datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert parse(compose(draft(date=now)))["Date"].datetime == now
