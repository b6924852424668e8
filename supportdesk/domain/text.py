"""Make untrusted text inert for a terminal: no escape sequences, no control characters, no
invisible characters that could disguise what is shown. Pure functions the console and the CLI
use on every customer-written string (mail/ uses them at parse time)."""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and the
# 8-bit C1 forms of CSI/OSC.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
# C0 controls except tab and newline, DEL, and C1 controls.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional marks, overrides and isolates (they reorder what the terminal shows) and
# invisible characters (zero-width space, joiners, word joiner, byte order mark, soft hyphen,
# invisible operators): a name, subject or file name could hide behind them.
_INVISIBLE = re.compile(
    r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
    r"\u200b-\u200d\u2060-\u2064\ufeff\u00ad\u180e]"
)


def clean_text(text: str) -> str:
    """Text fit to store and show: CRLF/CR become LF; escapes and control characters removed."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text)


def clean_line(text: str) -> str:
    """A single-line value (subject, name, file name): cleaned, bidirectional controls and
    invisible characters removed, whitespace runs collapsed."""
    return " ".join(strip_invisible(clean_text(text)).split())


def strip_invisible(text: str) -> str:
    """Without bidirectional controls and zero-width characters."""
    return _INVISIBLE.sub("", text)


def display_safe(text: str) -> str:
    """For a terminal: also strips bidirectional controls and zero-width characters that
    could disguise text (rows stored before they were removed at parse time included)."""
    return strip_invisible(clean_text(text))
