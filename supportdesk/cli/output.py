"""Output manners: data on stdout (JSON for scripts), messages on stderr, mail text inert."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from supportdesk.mail.sanitize import display_safe

stdout = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)
stderr = Console(stderr=True, highlight=False)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def say(message: str) -> None:
    """A message for the person at the terminal (stderr, never parsed as markup)."""
    stderr.print(Text(message))


def cell(value: object) -> Text:
    """A table cell from untrusted text: no markup, no escapes, no bidi tricks."""
    return Text(
        display_safe("" if value is None else str(value)), no_wrap=True, overflow="ellipsis"
    )


_ELASTIC = {"subject": 3, "snippet": 3, "customer": 2, "from": 2, "name": 1, "email": 1}


def print_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for i, name in enumerate(columns):
        if name in _ELASTIC:
            table.add_column(
                name, overflow="ellipsis", no_wrap=True, ratio=_ELASTIC[name], min_width=6
            )
        else:
            width = max([len(name), *(len(str(row[i])) for row in rows)])
            table.add_column(name, no_wrap=True, min_width=min(width, 30))
    for row in rows:
        table.add_row(*(cell(v) for v in row))
    stdout.print(table)


def age(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "now"


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
