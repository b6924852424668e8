"""Output manners: data on stdout (JSON for scripts), messages on stderr, mail text inert."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from supportdesk.domain.text import display_safe

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


class _LazyConsole:
    """A Rich console made on first use, so `--help` and JSON output never import Rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


stdout = cast(
    "Console",
    _LazyConsole(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160),
)
stderr = cast("Console", _LazyConsole(stderr=True, highlight=False))


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def say(message: str) -> None:
    """A message for the person at the terminal (stderr, never parsed as markup)."""
    from rich.text import Text

    stderr.print(Text(message))


_UNPRINTABLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
    r"\u200b-\u200d\u2060-\u2064\ufeff\u180e]"
)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ESC -> ␛, BEL -> ␇ (Unicode control pictures)
    return "\u2421" if code == 0x7F else f"<U+{code:04X}>"


def visible(text: str) -> str:
    """Text for a terminal that keeps what it says but cannot drive the terminal: escape
    sequences, control characters and bidi/zero-width marks are shown as visible symbols
    (ESC as ␛, U+202E as <U+202E>), newlines and tabs kept."""
    return _UNPRINTABLE.sub(_picture, text)


def mail_text(value: object, style: str = "") -> Text:
    """Untrusted text (mail, templates, the database) for Rich: `display_safe`, no markup."""
    from rich.text import Text

    return Text(display_safe("" if value is None else str(value)), style=style)


PLAIN_FROM = 20_000
"""Characters: a longer text goes to stdout as it is, without Rich's wrapping (which took
seconds for a 2 MB body); the terminal wraps it."""


def print_body(value: str) -> None:
    """A message's text on stdout, inert; a long one written plainly, at the speed of a copy."""
    if len(value) < PLAIN_FROM:
        stdout.print(mail_text(value))
        return
    safe = display_safe(value)
    stdout.file.write(safe if safe.endswith("\n") else safe + "\n")
    stdout.file.flush()


def cell(value: object) -> Text:
    """A table cell from untrusted text: no markup, no escapes, no bidi tricks."""
    from rich.text import Text

    return Text(
        display_safe("" if value is None else str(value)), no_wrap=True, overflow="ellipsis"
    )


_ELASTIC = {
    "subject": 3,
    "snippet": 3,
    "description": 3,
    "customer": 2,
    "from": 2,
    "tags": 1,
    "name": 1,
    "email": 1,
}


@runtime_checkable
class Fits(Protocol):
    """A value that knows how to shorten itself (`print_table` asks it, instead of cutting)."""

    def fit(self, width: int) -> str: ...


def print_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain table that fits the terminal: fixed columns keep their width (up to 30), the
    elastic ones (subject, description ...) share the rest by ratio and end in an ellipsis."""
    from rich.table import Table

    cells = [[cell(v) for v in row] for row in rows]
    natural = [
        max([len(name), *(row[i].cell_len for row in cells)]) for i, name in enumerate(columns)
    ]
    widths = {i: min(natural[i], 30) for i, name in enumerate(columns) if name not in _ELASTIC}
    elastic = [i for i, name in enumerate(columns) if name in _ELASTIC]
    room = stdout.width - sum(widths.values()) - 2 * (len(columns) - 1)
    while elastic:  # columns that need less than their share give the rest to the others
        total = sum(_ELASTIC[columns[i]] for i in elastic)
        share = {i: max(6, room * _ELASTIC[columns[i]] // total) for i in elastic}
        small = [i for i in elastic if natural[i] <= share[i]]
        if not small:
            widths.update(share)
            break
        for i in small:
            widths[i] = natural[i]
            room -= natural[i]
            elastic.remove(i)
    for row, values in zip(cells, rows, strict=True):
        for i, value in enumerate(values):
            if isinstance(value, Fits) and row[i].cell_len > widths[i]:
                row[i] = cell(
                    value.fit(max(widths[i], 1))
                )  # e.g. a name gives way, not its address
    table = Table(box=None, pad_edge=False, header_style="bold")
    for i, name in enumerate(columns):
        table.add_column(name, no_wrap=True, overflow="ellipsis", width=max(widths[i], 1))
    for row in cells:
        table.add_row(*row)
    stdout.print(table)


def age(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "now"


def local_time(when: datetime | None) -> str:
    """A stored time in the local zone, or "date unknown" when it could not be read."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "date unknown"


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal's stderr; nothing when piped or when `enabled` is False."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update
