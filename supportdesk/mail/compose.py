"""Compose outgoing mail: a Draft becomes RFC 5322 bytes (CRLF, UTF-8, MIME-encoded).

Every caller-supplied value is flattened to one line before it reaches a header, so a CR/LF
in a subject, name, address or extra header can never start a new header.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from supportdesk.mail.sanitize import clean_line

# Headers compose() writes itself; extra_headers may not override them.
_SEVEN_BIT = policy.SMTP.clone(cte_type="7bit")
_RESERVED = frozenset(
    name.lower()
    for name in (
        "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID",
        "In-Reply-To", "References", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted",
        "X-Auto-Response-Suppress", "Sender", "Return-Path",
    )
)
_FIELD_NAME_JUNK = re.compile(r"[^!-9;-~]")  # printable US-ASCII except ':' (RFC 5322 2.2)
_MSGID_JUNK = re.compile(r"[\s<>\x00-\x1f\x7f-\x9f\"\\,;()\[\]]")
_DOMAIN_JUNK = re.compile(r"[^a-z0-9.-]")
_BODY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Draft:
    """Everything needed to write one outgoing plain-text message."""

    from_addr: str
    from_name: str
    to: list[str]
    subject: str
    text: str
    message_id: str
    date: datetime
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    auto_submitted: bool = False
    reply_to: str | None = None
    cc: list[str] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)


def compose(draft: Draft) -> bytes:
    """RFC 5322 bytes for a draft; raises ValueError for an unusable address or message id."""
    if draft.date.tzinfo is None or draft.date.utcoffset() is None:
        raise ValueError("Draft.date must be timezone-aware")
    if not draft.to:
        raise ValueError("a message needs at least one To address")
    sender = _address(draft.from_addr, draft.from_name)
    to = [_address(a) for a in draft.to]
    cc = [_address(a) for a in draft.cc]
    reply_to = _address(draft.reply_to) if draft.reply_to else None

    # 7-bit clean output: RFC 2047 headers, quoted-printable or base64 body.
    msg = EmailMessage(policy=_SEVEN_BIT)
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = clean_line(draft.subject)
    msg["Date"] = format_datetime(draft.date)
    msg["Message-ID"] = f"<{_msgid(draft.message_id)}>"
    refs = [_msgid(r) for r in draft.references if _msgid(r, strict=False)]
    if draft.in_reply_to and _msgid(draft.in_reply_to, strict=False):
        parent = _msgid(draft.in_reply_to)
        msg["In-Reply-To"] = f"<{parent}>"
        if parent not in refs:
            refs.append(parent)
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in dict.fromkeys(refs))
    if draft.auto_submitted:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    for name, value in draft.extra_headers.items():
        clean_name = _FIELD_NAME_JUNK.sub("", name)
        if not clean_name:
            raise ValueError(f"invalid header name {name!r}")
        if clean_name.lower() in _RESERVED:
            raise ValueError(f"extra_headers may not set {clean_name}")
        msg[clean_name] = clean_line(value)
    msg.set_content(_body(draft.text), subtype="plain", charset="utf-8")
    return msg.as_bytes()


def _address(value: str, name: str = "") -> Address:
    """An Address from a bare addr-spec and an optional display name, both flattened."""
    spec = clean_line(value)
    if spec.startswith("<") and spec.endswith(">"):
        spec = spec[1:-1].strip()
    local, at, domain = spec.rpartition("@")
    if not local or not at or not domain:
        raise ValueError(f"invalid address {value!r}")
    if not local.isascii():
        raise ValueError(f"non-ASCII (SMTPUTF8) addresses are not supported: {value!r}")
    if not domain.isascii():
        try:
            spec = f"{local}@{domain.encode('idna').decode('ascii')}"
        except UnicodeError as exc:
            raise ValueError(f"invalid address {value!r}") from exc
    try:
        addr = Address(display_name=clean_line(name), addr_spec=spec)
    except (ValueError, IndexError, TypeError) as exc:
        raise ValueError(f"invalid address {value!r}") from exc
    if not addr.username or not addr.domain:
        raise ValueError(f"invalid address {value!r}")
    return addr


def _msgid(value: str, strict: bool = True) -> str:
    """A message id without brackets, whitespace or control characters."""
    cleaned = _MSGID_JUNK.sub("", value.strip().strip("<>"))[:900]
    if strict and not cleaned:
        raise ValueError(f"invalid message id {value!r}")
    return cleaned


def _body(text: str) -> str:
    """Body text with LF line ends, no stray control characters and a final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BODY_CONTROLS.sub("", text)
    return text if text.endswith("\n") else text + "\n"


def new_message_id_domain(address: str) -> str:
    """The domain part of the support address, fit for the right side of a Message-ID."""
    domain = clean_line(address).strip("<>").rpartition("@")[2].strip().rstrip(".").lower()
    if domain and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
    domain = _DOMAIN_JUNK.sub("", domain).strip(".-")
    return domain or "localhost"


def make_message_id(domain: str) -> str:
    """A new unique message id (without angle brackets): sd.<ms time>.<random>@domain."""
    domain = new_message_id_domain("x@" + domain)
    return f"sd.{time.time_ns() // 1_000_000}.{secrets.token_hex(8)}@{domain}"
