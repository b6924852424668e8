"""A cheap guess at a message's language (English or Russian for now)."""

from __future__ import annotations

_ASCII_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_NOT_LETTERS = bytes(b for b in range(256) if b not in _ASCII_LETTERS)


def guess_language(*texts: str) -> str:
    """'ru' when Cyrillic letters outnumber Latin ones in the first lines of text, else 'en'."""
    sample = " ".join(t[:2000] for t in texts).encode("utf-8", "replace")
    # U+0400..U+04FF are two UTF-8 bytes led by 0xD0..0xD3: count at C speed.
    cyrillic = sum(sample.count(lead) for lead in (b"\xd0", b"\xd1", b"\xd2", b"\xd3"))
    latin = len(sample.translate(None, _NOT_LETTERS))
    return "ru" if cyrillic > latin else "en"
