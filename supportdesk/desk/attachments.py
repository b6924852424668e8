"""Files an agent attaches to an answer: read from disk, named safely, weighed against
`[outgoing] attachment_limit`, and kept as JSON (a draft's paths, a held letter's bytes)."""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
from pathlib import Path

from supportdesk.config import Settings
from supportdesk.domain.records import ReplyAttachment
from supportdesk.errors import SupportDeskError
from supportdesk.mail.sanitize import safe_filename

ATTACH_PREFIX = "attach:"
"""A line `Attach: /path/file` at the very top of the text edited in $EDITOR attaches it."""


def size_label(size: int) -> str:
    """A size as people read it: 812 B, 120 KB, 14 MB (powers of ten, like the limit)."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{round(size / 1000)} KB"
    return f"{round(size / 1_000_000)} MB"


def read_attachment(path: str | Path) -> ReplyAttachment:
    """The file at `path` (`~` expanded) as an attachment: its name made safe the way an
    inbound attachment's is, its content type guessed from the name (unknown:
    application/octet-stream). An unreadable path raises one clear line."""
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except IsADirectoryError:
        raise SupportDeskError(f"cannot attach {path}: it is a folder; name a file") from None
    except FileNotFoundError:
        raise SupportDeskError(f"cannot attach {path}: no such file") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SupportDeskError(f"cannot attach {path}: {reason.lower()}") from None
    name = safe_filename(file.name)
    content_type = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    return ReplyAttachment(name, content_type, data)


def check_limit(settings: Settings, attachments: list[ReplyAttachment]) -> None:
    """Refuse (one line) attachments weighing more than `[outgoing] attachment_limit`
    together, naming the file that goes over."""
    limit = settings.outgoing.attachment_limit
    total = 0
    for attachment in attachments:
        total += len(attachment.data)
        if total > limit:
            raise SupportDeskError(
                f"{attachment.filename} ({size_label(len(attachment.data))}) is over the "
                f"{size_label(limit)} limit for an answer's attachments "
                "([outgoing] attachment_limit)"
            )


def split_attach_lines(text: str) -> tuple[list[str], str]:
    """(paths, text) from text edited in $EDITOR: lines `Attach: /path/file` at the very
    top are taken as attachments and removed (aerc's habit); the rest is the answer."""
    lines = text.split("\n")
    paths: list[str] = []
    while lines and lines[0].strip().lower().startswith(ATTACH_PREFIX):
        path = lines.pop(0).strip()[len(ATTACH_PREFIX) :].strip()
        if path:
            paths.append(path)
    if paths and lines and not lines[0].strip():
        lines.pop(0)  # the blank line after the Attach: lines
    return paths, "\n".join(lines)


def to_json(attachments: list[ReplyAttachment]) -> str | None:
    """A held letter's attachments as stored in `review.attachments` (base64 data)."""
    if not attachments:
        return None
    return json.dumps(
        [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "data": base64.b64encode(a.data).decode("ascii"),
            }
            for a in attachments
        ]
    )


def from_json(text: str | None) -> list[ReplyAttachment]:
    """The attachments `to_json` stored (none for junk)."""
    if not text:
        return []
    try:
        found = json.loads(text)
        return [
            ReplyAttachment(str(a["filename"]), str(a["content_type"]), base64.b64decode(a["data"]))
            for a in found
        ]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return []
