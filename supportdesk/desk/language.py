"""A cheap guess at a message's language (English or Russian for now)."""

from __future__ import annotations

import re

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")


def guess_language(*texts: str) -> str:
    """'ru' when Cyrillic letters dominate the first lines of text, else 'en'."""
    sample = " ".join(t[:2000] for t in texts)
    cyrillic = len(_CYRILLIC.findall(sample))
    latin = len(_LATIN.findall(sample))
    return "ru" if cyrillic > latin else "en"
