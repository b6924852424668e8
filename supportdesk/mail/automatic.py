"""Is a message automatic (RFC 3834 and the habits of real robots)? Is it a bounce?"""

from __future__ import annotations

import re

from supportdesk.mail.parse import ParsedMessage

_ROBOT_LOCALPARTS = re.compile(
    r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|"
    r"noreply[-+.].*|no-reply[-+.].*|bounce[-+.].*|.*-bounces?(?:\+.*)?|auto-?reply|autoresponder)$"
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|delivery (?:status )?notification|delivery fail|returned mail|failure notice|"
    r"mail delivery|could not be delivered|non.?delivery|nicht zustellbar|unzustellbar|"
    r"недоставлен)",
    re.I,
)
_AUTOREPLY_SUBJECT = re.compile(
    r"^(?:auto(?:matic)?[ -]?(?:reply|response|antwort)|out of (?:the )?office|abwesen|"
    r"автоответ|vacation)",
    re.I,
)


def automatic_reason(msg: ParsedMessage, own_addresses: frozenset[str] = frozenset()) -> str | None:
    """Why this message must not get an automatic answer, or None if a person wrote it."""
    h = msg.headers
    if not msg.from_addr:
        return "no sender address"
    if msg.from_addr in own_addresses:
        return "from our own address"
    auto_submitted = h.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"auto-submitted: {auto_submitted}"
    if h.get("precedence", "").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return f"precedence: {h['precedence'].strip().lower()}"
    if "list-id" in h or "list-unsubscribe" in h:
        return "mailing list"
    if h.get("return-path", "x").replace(" ", "") == "<>":
        return "empty return path"
    if _ROBOT_LOCALPARTS.match(msg.from_addr.split("@")[0]):
        return "robot sender"
    if "x-autoreply" in h or "x-autorespond" in h:
        return "auto-reply header"
    suppress = h.get("x-auto-response-suppress", "").lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return "auto-response suppressed"
    if msg.content_type == "multipart/report":
        return f"report: {msg.report_type or 'unknown'}"
    if "x-failed-recipients" in h:
        return "delivery report"
    if _AUTOREPLY_SUBJECT.match(msg.subject):
        return "auto-reply subject"
    return None


def is_bounce(msg: ParsedMessage) -> bool:
    """A delivery failure report (DSN or the older free-form kind)."""
    if msg.content_type == "multipart/report" and msg.report_type == "delivery-status":
        return True
    local = msg.from_addr.split("@")[0]
    if "x-failed-recipients" in msg.headers:
        return True
    if local in ("mailer-daemon", "postmaster") or not msg.from_addr:
        return bool(_BOUNCE_SUBJECT.search(msg.subject)) or msg.content_type == "multipart/report"
    return False
