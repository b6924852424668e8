"""Realistic test mail, built as raw bytes the way mail clients write it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

_counter = itertools.count(1)
_orders = itertools.count(1001)


def make_mail(
    sender: str = "Carol Customer <carol@example.org>",
    subject: str = "My invoice is wrong",
    body: str | None = None,
    *,
    to: str = "support@example.com",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
    date: datetime | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    msg["Message-ID"] = f"<{message_id or f'test.{next(_counter)}@client.example.org'}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references or in_reply_to:
        msg["References"] = " ".join(f"<{r}>" for r in (references or [in_reply_to]))
    for name, value in (headers or {}).items():
        msg[name] = value
    if body is None:  # each message its own text, as people write (a repeat joins: intake)
        order = next(_orders)
        body = f"Hello,\n\nthe invoice of order {order} shows the wrong amount.\n\nCarol\n"
    msg.set_content(body)
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def message_id_of(raw: bytes) -> str:
    for line in raw.split(b"\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().strip(b"<>").decode()
    raise ValueError("no Message-ID")


def make_bounce(
    original_id: str, status: str = "5.1.1", reason: str = "User unknown", mid: str = "bounce1@mx"
) -> bytes:
    """A delivery status notification (RFC 3464) from the mailer daemon about `original_id`."""
    return (
        b"From: MAILER-DAEMON@mx.example.org\r\nTo: support@example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <" + mid.encode() + b">\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; "
        b"report-type=delivery-status; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: text/plain\r\n\r\n" + reason.encode() + b"\r\n--B\r\n"
        b"Content-Type: message/delivery-status\r\n\r\nStatus: " + status.encode() + b"\r\n--B\r\n"
        b"Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: <"
        + original_id.encode()
        + b">\r\n--B--\r\n"
    )
