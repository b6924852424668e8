"""Raw bytes to a ParsedMessage, fast and without ever raising.

Headers and text parts are parsed eagerly. Multipart bodies are split on their boundaries with
byte searches (no line-by-line feed parser), and attachments stay raw: each is an offset range
into the original bytes plus its transfer encoding, decoded only when an agent opens it.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from supportdesk.mail.headers import (
    decode_bytes,
    decode_header_value,
    message_ids,
    parse_addresses,
    parse_content_type,
    parse_date,
    raw_header_text,
    split_headers,
)
from supportdesk.mail.html_text import html_to_text
from supportdesk.mail.sanitize import clean_line, clean_text, safe_filename

MAX_DEPTH = 30
MAX_PARTS = 500
MAX_TEXT = 2_000_000
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_LOOKS_LIKE_HEADER = re.compile(rb"[!-9;-~]+[ \t]*:")
_EMBEDDED_MSGID = re.compile(
    rb"(?im)^(?:Message-ID|X-Message-ID|Original-Message-ID)\s*:\s*(<[^>\x00-\x1f\x7f]{1,900}>)"
)


@dataclass(slots=True)
class Attachment:
    """An attachment as a range of the raw message: decoded only when someone needs it."""

    filename: str
    original_filename: str | None
    content_type: str
    encoding: str
    start: int
    end: int
    inline: bool = False

    @property
    def encoded_size(self) -> int:
        return self.end - self.start


@dataclass(slots=True)
class ParsedMessage:
    raw: bytes
    sha256: str
    message_id: str
    message_id_synthesized: bool
    subject: str = ""
    from_addr: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    reply_to: str = ""
    date: datetime | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html_only: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    """A few decoded headers the pipeline needs (auto-submitted, precedence, list-id ...)."""
    content_type: str = "text/plain"
    report_type: str = ""
    embedded_message_ids: list[str] = field(default_factory=list)
    """Message-IDs quoted inside the body (the original in a bounce or report)."""


_KEPT_HEADERS = (
    "auto-submitted",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "return-path",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "x-loop",
    "sender",
    "x-failed-recipients",
    "content-language",
)


def parse_message(raw: bytes, sha256: str | None = None) -> ParsedMessage:
    """Parse raw RFC 5322 bytes. Never raises: what had to be guessed is in `warnings`.

    `sha256` may be passed when already computed (hashing releases the GIL, so the download
    thread does it while this thread parses).
    """
    sha = sha256 or hashlib.sha256(raw).hexdigest()
    try:
        return _parse(raw, sha)
    except RecursionError:
        msg = ParsedMessage(
            raw=raw, sha256=sha, message_id=synthesized_id(sha), message_id_synthesized=True
        )
        msg.warnings.append("message nested too deeply to parse; kept raw")
        return msg
    except Exception as exc:  # noqa: BLE001 - the pipeline must never lose a message
        msg = ParsedMessage(
            raw=raw, sha256=sha, message_id=synthesized_id(sha), message_id_synthesized=True
        )
        msg.warnings.append(f"could not be parsed ({type(exc).__name__}); kept raw")
        msg.text = clean_text(raw[:MAX_TEXT].decode("utf-8", "replace"))
        return msg


def synthesized_id(sha: str) -> str:
    return f"sha256-{sha[:40]}@supportdesk.invalid"


def _normalise_line_endings(raw: bytes) -> bytes:
    """CR-only mail (old Macs) gets LF line ends; same length, so offsets stay valid."""
    head = raw[:4096]
    if b"\n" not in head and b"\r" in head:
        return raw.replace(b"\r", b"\n")
    return raw


def split_head_body(buf: bytes, start: int, end: int) -> tuple[int, int]:
    """(end of the header block, start of the body) within buf[start:end]."""
    m = _HEADER_END.search(buf, start, end)
    if m:
        return m.start(), m.end()
    # Headers only, no body.
    return end, end


def _parse(raw: bytes, sha: str) -> ParsedMessage:
    buf = _normalise_line_endings(raw)
    warnings: list[str] = []
    start = 0
    if buf.startswith(b"From ") and b"\n" in buf[:1000]:  # an mbox separator line left in
        start = buf.index(b"\n") + 1
    if not _LOOKS_LIKE_HEADER.match(buf, start):
        headers: list[tuple[str, bytes]] = []
        body_start = start
        warnings.append("message has no headers")
    else:
        head_end, body_start = split_head_body(buf, start, len(buf))
        headers = split_headers(buf[start:head_end])
    first: dict[str, bytes] = {}
    for name, value in headers:
        first.setdefault(name, value)

    raw_mid = raw_header_text(first.get("message-id", b""))
    ids = message_ids(raw_mid, 1)
    if ids and len(ids[0]) <= 250:
        message_id, synthesized = ids[0], False
    else:
        bare = raw_mid.strip()
        if bare and len(bare) <= 250 and bare.isprintable() and " " not in bare and "@" in bare:
            message_id, synthesized = bare.strip("<>"), False
        else:
            message_id, synthesized = synthesized_id(sha), True
            if "message-id" in first:
                warnings.append("Message-ID is malformed; a hash of the message stands in")

    def header(name: str) -> str:
        value = first.get(name)
        return "" if value is None else decode_header_value(value[:100_000], warnings)

    msg = ParsedMessage(
        raw=raw,
        sha256=sha,
        message_id=message_id,
        message_id_synthesized=synthesized,
        warnings=warnings,
    )
    msg.subject = clean_line(header("subject"))[:1000]

    def addresses(name: str) -> list[tuple[str, str]]:
        value = first.get(name)
        return parse_addresses(raw_header_text(value[:100_000]), warnings) if value else []

    senders = addresses("from") or addresses("sender")
    if senders:
        msg.from_name, msg.from_addr = senders[0]
    elif "from" in first:
        warnings.append("From: no usable address")
    msg.to = [a for _, a in addresses("to")][:100]
    msg.cc = [a for _, a in addresses("cc")][:100]
    reply_to = addresses("reply-to")
    msg.reply_to = reply_to[0][1] if reply_to else ""
    msg.date = parse_date(header("date"), warnings)
    msg.in_reply_to = message_ids(raw_header_text(first.get("in-reply-to", b"")), 5)
    msg.references = message_ids(raw_header_text(first.get("references", b"")))
    for name in _KEPT_HEADERS:
        if name in first:
            msg.headers[name] = clean_line(header(name))[:500]

    ctype, params = parse_content_type(header("content-type") if "content-type" in first else None)
    msg.content_type = ctype
    msg.report_type = params.get("report-type", "").lower()
    walker = _Walker(buf, msg)
    walker.walk_entity(ctype, params, first, body_start, len(buf), depth=0)
    msg.text = walker.text()
    msg.html_only = walker.used_html
    if ctype == "multipart/report" or walker.saw_report or _looks_like_bounce(msg):
        msg.embedded_message_ids = _embedded_ids(buf, body_start, message_id)
    return msg


def _looks_like_bounce(msg: ParsedMessage) -> bool:
    local = msg.from_addr.split("@")[0]
    return local in ("mailer-daemon", "postmaster") or msg.headers.get("return-path") == "<>"


def _embedded_ids(buf: bytes, body_start: int, own: str) -> list[str]:
    found = []
    for m in _EMBEDDED_MSGID.finditer(buf, body_start, min(len(buf), body_start + 512_000)):
        mid = m[1][1:-1].decode("utf-8", "replace")
        if mid != own and mid not in found:
            found.append(mid)
    return found[:20]


class _Walker:
    """Walks the MIME tree by offsets, collecting text and attachment ranges."""

    def __init__(self, buf: bytes, msg: ParsedMessage) -> None:
        self.buf = buf
        self.msg = msg
        self.plain: list[str] = []
        self.html: list[str] = []
        self.parts = 0
        self.used_html = False
        self.saw_report = False

    def text(self) -> str:
        if self.plain:
            text = "\n\n".join(t for t in self.plain if t.strip())
        elif self.html:
            self.used_html = True
            text = "\n\n".join(html_to_text(h) for h in self.html)
        else:
            text = ""
        if len(text) > MAX_TEXT:
            self.msg.warnings.append("text longer than 2 MB; the rest is in the raw message")
            text = text[:MAX_TEXT]
        return text

    def walk_entity(
        self,
        ctype: str,
        params: dict[str, str],
        headers: dict[str, bytes],
        start: int,
        end: int,
        depth: int,
    ) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            if self.parts == MAX_PARTS + 1:
                self.msg.warnings.append(f"more than {MAX_PARTS} MIME parts; the rest kept raw")
            return
        if ctype.startswith("multipart/"):
            if depth >= MAX_DEPTH:
                self.msg.warnings.append("MIME nesting too deep; inner parts kept raw")
                return
            self._walk_multipart(ctype, params, start, end, depth)
            return
        encoding = raw_header_text(headers.get("content-transfer-encoding", b"7bit"))
        encoding = encoding.strip().lower() or "7bit"
        disposition_raw = headers.get("content-disposition")
        disposition, dparams = parse_content_type(
            decode_header_value(disposition_raw, self.msg.warnings) if disposition_raw else None
        )
        disposition = disposition.removeprefix("application/")  # parsed as a bare type
        filename = dparams.get("filename") or params.get("name")
        if filename:
            filename = decode_header_value(filename, self.msg.warnings)
        is_attachment = disposition.startswith("attachment") or (
            filename is not None and not ctype.startswith("text/")
        )
        if ctype in (
            "message/delivery-status",
            "message/feedback-report",
            "message/disposition-notification",
        ):
            self.saw_report = True
        if (
            not is_attachment
            and ctype
            in (
                "text/plain",
                "text/html",
                "message/delivery-status",
                "text/enriched",
                "text/x-amp-html",
            )
            or (not is_attachment and ctype.startswith("text/") and depth == 0)
        ):
            data = self._decode(encoding, start, end)
            text = decode_bytes(data, params.get("charset"), self.msg.warnings, ctype)
            if ctype == "text/html" or ctype == "text/x-amp-html":
                self.html.append(text)  # converted only if no plain text turns up
            else:
                self.plain.append(clean_text(text))
            return
        if ctype == "text/html" and is_attachment and not filename:
            filename = "message.html"
        if ctype in ("message/rfc822", "message/global", "text/rfc822-headers") and not filename:
            filename = "message.eml" if ctype != "text/rfc822-headers" else "headers.txt"
        self.msg.attachments.append(
            Attachment(
                filename=safe_filename(filename, _fallback_name(ctype)),
                original_filename=clean_line(filename)[:500] if filename else None,
                content_type=clean_line(ctype)[:200],
                encoding=clean_line(encoding)[:40],
                start=start,
                end=end,
                inline=disposition.startswith("inline"),
            )
        )

    def _walk_multipart(
        self, ctype: str, params: dict[str, str], start: int, end: int, depth: int
    ) -> None:
        boundary = params.get("boundary", "").encode("utf-8", "replace")
        if not boundary:
            self.msg.warnings.append(f"{ctype} without a boundary; read as text")
            data = self.buf[start:end]
            self.plain.append(clean_text(data.decode("utf-8", "replace")))
            return
        positions = self._delimiters(boundary, start, end)
        closed = bool(positions) and positions[-1][2]
        if not positions:
            self.msg.warnings.append(f"{ctype}: boundary never found; read as text")
            self.plain.append(clean_text(self.buf[start:end].decode("utf-8", "replace")))
            return
        if not closed:
            self.msg.warnings.append(f"{ctype}: missing closing boundary")
        bounds = []
        for i, (_line_start, line_end, is_close) in enumerate(positions):
            if is_close:
                break
            part_start = line_end
            if self.buf.startswith(b"\r\n", part_start):
                part_start += 2
            elif self.buf.startswith(b"\n", part_start):
                part_start += 1
            if i + 1 < len(positions):
                part_end = positions[i + 1][0]
                if self.buf[part_end - 2 : part_end] == b"\r\n":
                    part_end -= 2
                elif self.buf[part_end - 1 : part_end] == b"\n":
                    part_end -= 1
            else:
                part_end = end
            bounds.append((part_start, max(part_start, part_end)))
        for part_start, part_end in bounds:
            if part_start < part_end and self.buf[part_start : part_start + 2] in (
                b"\r\n",
                b"\n\r",
            ):
                head_end, body_start = part_start, part_start + 2
            elif self.buf[part_start : part_start + 1] == b"\n":
                head_end, body_start = part_start, part_start + 1
            else:
                head_end, body_start = split_head_body(self.buf, part_start, part_end)
            part_headers: dict[str, bytes] = {}
            for name, value in split_headers(self.buf[part_start:head_end]):
                part_headers.setdefault(name, value)
            ct_raw = part_headers.get("content-type")
            pparams: dict[str, str]
            if ct_raw is None:
                default = "message/rfc822" if ctype == "multipart/digest" else "text/plain"
                pctype, pparams = default, {}
            else:
                pctype, pparams = parse_content_type(decode_header_value(ct_raw, self.msg.warnings))
            self.walk_entity(pctype, pparams, part_headers, body_start, part_end, depth + 1)

    def _delimiters(self, boundary: bytes, start: int, end: int) -> list[tuple[int, int, bool]]:
        """(line start, line end, is closing) of each `--boundary` line, up to the closing one."""
        buf, marker = self.buf, b"--" + boundary
        found: list[tuple[int, int, bool]] = []
        pos = start
        while pos < end:
            at = buf.find(marker, pos, end)
            if at < 0:
                break
            pos = at + len(marker)
            if at != start and buf[at - 1] != 10:  # must begin a line
                continue
            line_end = buf.find(b"\n", pos, end)
            line_end = end if line_end < 0 else line_end
            rest = buf[pos:line_end].rstrip(b" \t\r")
            if rest.startswith(b"--"):
                found.append((at, line_end, True))
                break
            if rest:  # a longer boundary that merely starts with ours
                continue
            found.append((at, line_end, False))
        return found

    def _decode(self, encoding: str, start: int, end: int) -> bytes:
        data = self.buf[start:end]
        return decode_transfer(data, encoding, self.msg.warnings)


def decode_transfer(data: bytes, encoding: str, warnings: list[str] | None = None) -> bytes:
    """Undo a Content-Transfer-Encoding; broken input is decoded as far as it goes."""
    warn = warnings if warnings is not None else []
    if encoding == "base64":
        try:
            return binascii.a2b_base64(data)
        except binascii.Error:
            cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
            cleaned = cleaned[: len(cleaned) - len(cleaned) % 4]
            warn.append("broken base64 data; decoded what could be")
            try:
                return binascii.a2b_base64(cleaned)
            except binascii.Error:
                return data
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    if encoding in ("7bit", "8bit", "binary", ""):
        return data
    if encoding in ("x-uuencode", "uuencode", "x-uue"):
        return data
    warn.append(f"unknown transfer encoding {encoding[:30]!r}; read as is")
    return data


def _fallback_name(ctype: str) -> str:
    sub = ctype.split("/", 1)[-1]
    ext = {
        "pdf": "pdf",
        "png": "png",
        "jpeg": "jpg",
        "gif": "gif",
        "zip": "zip",
        "plain": "txt",
        "html": "html",
        "rfc822": "eml",
    }.get(sub, "bin")
    return f"attachment.{ext}"


def attachment_bytes(raw: bytes, attachment: Attachment) -> bytes:
    """The decoded content of an attachment from its message's raw bytes."""
    buf = _normalise_line_endings(raw)
    return decode_transfer(buf[attachment.start : attachment.end], attachment.encoding)
