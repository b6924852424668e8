"""Tags and priorities as agents type them: checked and normalised, in the standard library."""

from __future__ import annotations

import re

from supportdesk.domain.enums import PRIORITIES
from supportdesk.errors import SupportDeskError

TAG_MAX = 64
_TAG = re.compile(r"[\w.\-]+")
TAG_RULE = "letters, digits, '-', '_' and '.', at most 64"


def normalise_tag(text: str) -> str:
    """A tag as stored: lower-case, without the spaces around it; one clear error for a tag
    that cannot be one (`Billing` → `billing`; `two words` is refused)."""
    tag = text.strip().lower()
    if not tag or len(tag) > TAG_MAX or not _TAG.fullmatch(tag):
        raise SupportDeskError(f"tag {text.strip()!r} is not allowed: use {TAG_RULE}")
    return tag


def tag_changes(words: list[str]) -> tuple[list[str], list[str]]:
    """`+billing -spam vip` → (to add, to remove): `+tag` or a plain `tag` adds, `-tag`
    removes; each normalised, in the order given, once. A tag both added and removed is an
    error."""
    add: dict[str, None] = {}
    remove: dict[str, None] = {}
    for word in words:
        word = word.strip()
        if word.startswith("-"):
            remove[normalise_tag(word[1:])] = None
        else:
            add[normalise_tag(word.removeprefix("+"))] = None
    both = sorted(set(add) & set(remove))
    if both:
        raise SupportDeskError(f"tag {both[0]!r} is both added and removed: give it once")
    return list(add), list(remove)


def tag_difference(before: list[str], text: str) -> tuple[list[str], list[str]]:
    """What an edited tag line changes: the tags typed (space- or comma-separated) against
    those the request had → (to add, to remove)."""
    typed = list(dict.fromkeys(normalise_tag(w) for w in re.split(r"[\s,]+", text) if w))
    return [t for t in typed if t not in before], [t for t in before if t not in typed]


def check_priority(value: str) -> str:
    """A priority as given (any case), or one clear error listing the allowed ones."""
    priority = value.strip().lower()
    if priority not in PRIORITIES:
        raise SupportDeskError(f"unknown priority {value!r}: use one of " + ", ".join(PRIORITIES))
    return priority
