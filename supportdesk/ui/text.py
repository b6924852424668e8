"""Mail text for the screen: inert (never markup), escapes stripped, quotes folded, long
bodies cut.

Every string that comes from mail, templates, the database or an error message reaches
Rich/Textual through `plain` (a str: toasts, titles) or `inert` (a Rich Text: cells, labels,
options, the thread), both `display_safe` underneath: no markup parsing, no escape sequences,
no control, zero-width or bidirectional characters. The app's `notify` and `format_title` apply
it to every toast and title (tests/test_customer_text.py checks that none goes around them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from supportdesk.domain.text import display_safe

STATUS_WORDS = {"review": "waiting for review"}
"""Request statuses as the console words them (the rest read as they are)."""


def status_words(status: str) -> str:
    """A request's status for the screen: `review` reads "waiting for review"."""
    return STATUS_WORDS.get(status, status)


def plain(value: object) -> str:
    """Untrusted text as a str for Textual (a toast, a title): no escapes, no control or bidi
    characters. Where Textual could read markup in it, pass markup=False too (`notify` does)."""
    return display_safe("" if value is None else str(value))


_PICTURES = {i: chr(0x2400 + i) for i in range(32) if chr(i) not in "\t\n"} | {0x7F: "\u2421"}


def visible_controls(text: str) -> str:
    """Source text (a raw message) with its control characters shown as symbols (ESC as ␛)
    instead of acting on the terminal; CRLF line ends read as plain line ends."""
    return text.replace("\r\n", "\n").translate(_PICTURES)


def inert(value: object, style: str = "") -> Text:
    """Untrusted text as a Rich Text: no markup parsing, no control or bidi characters."""
    return Text(plain(value), style=style)


LONG_CHARS = 10_000
LONG_LINES = 200
"""A body longer than this is shown cut, with the count of what is left and the key that
shows it all: drawing a 2 MB body took the console 11 s and 500 MB."""


@dataclass(frozen=True, slots=True)
class Cut:
    """The head of a long text and what was left out of it."""

    head: str
    more_lines: int
    more_chars: int

    @property
    def cut(self) -> bool:
        return self.more_chars > 0

    def note(self, key: str) -> str:
        return f"… {self._more()}: press {key} to show all"

    def note_elsewhere(self) -> str:
        return f"… {self._more()}: the request screen shows all"

    def _more(self) -> str:
        lines = f"{self.more_lines:,} more line{'s' if self.more_lines != 1 else ''}"
        return f"{lines} ({self.more_chars:,} characters)"


def cut_long(text: str, chars: int = LONG_CHARS, lines: int = LONG_LINES) -> Cut:
    """The first `lines` lines of `text`, at most `chars` characters (cut at a line's end where
    there is one): the work does not grow with the text."""
    if len(text) <= chars and text.count("\n", 0, chars) < lines:
        return Cut(text, 0, 0)
    end = 0
    for _ in range(lines):
        found = text.find("\n", end, chars)
        if found < 0:
            break
        end = found + 1
    if end == 0 or (len(text) > chars and end < chars // 2 and text.find("\n", end, chars) < 0):
        end = min(len(text), chars)  # one very long line: cut it
    rest = text[end:]
    if not rest:
        return Cut(text, 0, 0)
    more_lines = rest.count("\n") + (0 if rest.endswith("\n") else 1)
    return Cut(text[:end].rstrip("\n"), more_lines, len(rest))


def fold_quotes(text: str, unfold: bool = False) -> str:
    """Runs of quoted lines ("> ...") longer than two lines become one marker line."""
    if unfold:
        return text
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) > 2:
            out.append(f"[… {len(run)} quoted lines — z shows them]")
        else:
            out.extend(run)
        run.clear()

    for line in text.split("\n"):
        if line.lstrip().startswith(">"):
            run.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


def age(when: datetime | None, now: datetime) -> str:
    if when is None:
        return ""
    seconds = (now - when).total_seconds()
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "now"


def local_time(when: datetime | None) -> str:
    """A stored time in the local zone, or "date unknown" when it could not be read."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "date unknown"
