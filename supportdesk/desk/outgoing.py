"""Outgoing mail as rows: composed and stored (status queued) before anything is delivered."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supportdesk.config import Settings
from supportdesk.domain.records import ReplyAttachment
from supportdesk.mail.compose import Draft, compose, make_message_id, new_message_id_domain


@dataclass(slots=True)
class OutgoingMail:
    request_id: int
    to: list[str]
    subject: str
    text: str
    kind: str = "reply"
    """reply, ack, reminder, notice ..."""
    agent_login: str | None = None
    agent_name: str | None = None
    automatic: bool = False
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    """Copied in (the Cc header); delivered to them as well (the outbox's recipients)."""
    attachments: list[ReplyAttachment] = field(default_factory=list)
    """Files sent with the text (multipart/mixed)."""


def sender_name(settings: Settings, agent_name: str | None) -> str:
    return f"{agent_name} ({settings.desk.name})" if agent_name else settings.desk.name


def build_outgoing(
    settings: Settings, now: datetime, pk: int, mail: OutgoingMail
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The message row and its raw-bytes row for one outgoing mail, ready to insert."""
    message_id = make_message_id(new_message_id_domain(settings.desk.address))
    references = list(mail.references)
    if mail.in_reply_to and mail.in_reply_to not in references:
        references.append(mail.in_reply_to)
    draft = Draft(
        from_addr=settings.desk.address,
        from_name=sender_name(settings, mail.agent_name),
        to=mail.to,
        cc=mail.cc,
        subject=mail.subject,
        text=mail.text,
        message_id=message_id,
        date=now,
        in_reply_to=mail.in_reply_to,
        references=references[-20:],
        auto_submitted=mail.automatic,
        attachments=[(a.filename, a.content_type, a.data) for a in mail.attachments],
    )
    raw = compose(draft)
    sha = hashlib.sha256(raw).hexdigest()
    row = {
        "id": pk,
        "request_id": mail.request_id,
        "message_id": message_id,
        "direction": "out",
        "kind": mail.kind,
        "status": "queued",
        "from_addr": settings.desk.address,
        "from_name": draft.from_name,
        "to_addrs": ", ".join(mail.to),
        "cc_addrs": ", ".join(mail.cc),
        "reply_to": "",
        "subject": mail.subject,
        "text": mail.text,
        "date": now,
        "received_at": now,
        "in_reply_to": mail.in_reply_to,
        "references": " ".join(references[-20:]),
        "sha256": sha,
        "size": len(raw),
        "warnings": None,
        "automatic": "auto-replied" if mail.automatic else None,
        "html_only": False,
        "agent_login": mail.agent_login,
        "attempts": 0,
        "next_attempt_at": now,
        "sent_at": None,
        "last_error": None,
        "joined_by": None,
    }
    return row, {"message_pk": pk, "sha256": sha, "raw": raw}


def attachment_rows(pk: int, raw: bytes) -> list[dict[str, Any]]:
    """The `attachment` rows of outgoing message `pk` (its raw bytes `raw`): found the way
    intake finds an inbound message's, as offset ranges into the raw message, so the request
    screen lists them and saves them alike."""
    from supportdesk.mail.parse import parse_message  # only when a reply has attachments

    return [
        {
            "message_pk": pk,
            "filename": a.filename,
            "original_filename": a.original_filename,
            "content_type": a.content_type,
            "encoding": a.encoding,
            "start": a.start,
            "end": a.end,
            "inline": a.inline,
        }
        for a in parse_message(raw).attachments
    ]
