"""Mail text for the screen: inert (never markup), escapes stripped, quotes folded."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from supportdesk.mail.sanitize import display_safe


def inert(value: object, style: str = "") -> Text:
    """Untrusted text as a Rich Text: no markup parsing, no control or bidi characters."""
    return Text(display_safe("" if value is None else str(value)), style=style)


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


def short_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"
