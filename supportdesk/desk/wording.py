"""Wording the workflow needs besides the templates: subjects and durations."""

from __future__ import annotations

import re
from datetime import timedelta

_TAG = re.compile(r"\s*\[#\d+\]\s*")
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|ответ|отв)\s*(\[\d+\])?\s*:\s*)+", re.I)


def request_tag(number: int) -> str:
    return f"[#{number}]"


def strip_subject(subject: str) -> str:
    """The subject without our tag and without Re:/Fwd: prefixes."""
    return _REPLY_PREFIX.sub("", _TAG.sub(" ", subject)).strip()


def reply_subject(subject: str, number: int) -> str:
    """`Re: <subject> [#N]`: the tag lets a reply find its request even without headers."""
    base = strip_subject(subject) or "your request"
    return f"Re: {base[:200]} {request_tag(number)}"


def mention_note(number: int) -> str:
    """What a request opened by a stranger's message says about the request it named."""
    return f"mentions #{number}, from someone not in that conversation"


def human_duration(delta: timedelta, language: str = "en") -> str:
    hours = delta.total_seconds() / 3600
    if language == "ru":
        if hours < 1:
            return f"{int(delta.total_seconds() // 60)} мин."
        if hours < 48:
            return f"{hours:g} ч."
        return f"{hours / 24:g} дн."
    if hours < 1:
        minutes = int(delta.total_seconds() // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if hours < 48:
        return f"{hours:g} hour{'s' if hours != 1 else ''}"
    return f"{hours / 24:g} days"
