"""Bugs, ideas and stories on a big desk: the backlog, the search as an agent types, converting,
attaching, and telling every customer of a big bug at once.

    python bench/items.py                      # builds bench/tick.py's desk in a temp folder
    python bench/items.py /tmp/tickdesk        # reuse (or build once) bench/tick.py's desk
    python bench/items.py /tmp/tickdesk --items 5000 --big 1000

The desk is bench/tick.py's (200,000 requests, ~65 s to build the first time), on a fresh
copy (PATH/run/desk.db). On it, through the store's own functions: --items items (bugs 60 %,
ideas 30 %, stories 10 %; titles from the sample topics) each linked to 1-8 closed requests,
and one big open bug linked to --big requests in status `linked` (with their customers).
The clock is frozen at the desk's "now". Then, timed with perf_counter in-process (the desk
opened before), medians and p99 over repeats:

- `Desk.items()`: the whole backlog with its counts (what the backlog screen loads);
- `Desk.search_items(q)` for each prefix of "export" as typed, and a two-typo word: what
  the convert dialog runs per keystroke (the first call builds the index: reported apart);
- `Desk.search_items("", number)`: the suggestions when the dialog opens;
- `Desk.convert(n, "bug")` and `Desk.attach(n, item)` on requests from the stack: the
  template rendered, the reply queued, the request linked, in one transaction;
- `Desk.fix_item(big, notify=True)`: --big fixed_notice mails rendered and queued, each in
  its own transaction.

One JSON line per figure on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from tick import MARKER, build, emit, fresh_copy, ms, progress, reuse, when  # noqa: E402

from supportdesk.clock import FrozenClock  # noqa: E402
from supportdesk.config import load_settings  # noqa: E402
from supportdesk.desk import open_desk  # noqa: E402
from supportdesk.samples import TOPICS_EN  # noqa: E402
from supportdesk.store import items as store_items  # noqa: E402
from supportdesk.store import requests as store_requests  # noqa: E402

KINDS = [("bug", 6), ("idea", 3), ("story", 1)]


def seed_items(desk: Any, count: int, big: int, rng: random.Random) -> int:
    """`count` items over closed requests, and one big bug over `big` linked requests;
    returns the big bug's number."""
    now = desk.clock.now()
    with desk.db.engine.connect() as conn:
        closed = [
            n
            for (n,) in conn.exec_driver_sql(
                "SELECT id FROM request WHERE status = 'closed' ORDER BY id"
            )
        ]
    rng.shuffle(closed)
    topics = [t[0] if isinstance(t, tuple) else str(t) for t in TOPICS_EN]
    with desk.db.write() as conn:
        for i in range(count):
            kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
            title = f"{rng.choice(topics)} ({i})"
            number = store_items.add_item(
                conn, kind, title, f"Seen by customers: {title}", "anna", now
            )
            for _ in range(rng.randint(1, 8)):
                if closed:
                    store_items.link(conn, closed.pop(), number, now)
        big_bug = store_items.add_item(
            conn, "bug", "Export to Excel fails for large projects", "Error 500.", "anna", now
        )
        for _ in range(big):
            n = closed.pop()
            store_items.link(conn, n, big_bug, now)
            store_requests.update_request(conn, n, status="linked", reason="linked")
    return big_bug


def timed(fn: Any, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def figure(what: str, times: list[float], **extra: Any) -> None:
    ordered = sorted(times)
    emit(
        {
            "what": what,
            "p50_ms": ms(statistics.median(ordered)),
            "p99_ms": ms(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]),
            "n": len(ordered),
            **extra,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, nargs="?", help="default: a temp folder, removed after")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--big", type=int, default=500, help="requests linked to one bug")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    temporary = args.path is None
    path = Path(tempfile.mkdtemp(prefix="itemsdesk-")) if temporary else args.path.resolve()
    if (path / "desk.db").exists() and not (path / MARKER).exists():
        raise SystemExit(f"{path / 'desk.db'} was not built by bench/tick.py; use another PATH")
    started = time.perf_counter()
    try:
        info = reuse(path) if (path / MARKER).exists() else build(path, 200_000, 40_000, 1)
        run = fresh_copy(path)
        desk = open_desk(load_settings(run / "config.toml"), FrozenClock(when(info)))
        rng = random.Random(args.seed)
        big = seed_items(desk, args.items, args.big, rng)
        progress(f"{args.items:,} items and a bug with {args.big} requests", started)

        backlog = timed(desk.items, 20)
        figure("Desk.items(): the backlog", backlog, items=len(desk.items()))

        first = timed(lambda: desk.search_items("export"), 1)
        emit({"what": "search_items: first call, builds the index", "ms": ms(first[0])})
        typed = [word[:i] for word in ("export", "exprot", "dashbord") for i in range(1, 7)]
        per_key = [t for q in typed * 5 for t in timed(lambda q=q: desk.search_items(q), 1)]
        figure("search_items per keystroke", per_key)
        stack = [r.number for r in desk.stack(200)]
        figure(
            "search_items('', number): suggestions when the dialog opens",
            timed(lambda: desk.search_items("", stack[0]), 20),
        )
        converted = timed(lambda: desk.convert(stack.pop(), "bug", "anna"), 30)
        figure("Desk.convert(n, 'bug')", converted)
        attached = timed(lambda: desk.attach(stack.pop(), big, "anna"), 30)
        figure("Desk.attach(n, item)", attached)

        waiting = desk.item(big).item.waiting
        started_fix = time.perf_counter()
        change = desk.fix_item(big, "anna", notify=True)
        seconds = time.perf_counter() - started_fix
        emit(
            {
                "what": "Desk.fix_item(notify=True)",
                "customers_waiting": waiting,
                "notified": len(change.notified),
                "failed": len(change.failed),
                "total_ms": ms(seconds),
                "per_request_ms": ms(seconds / max(1, len(change.notified))),
            }
        )
        desk.close_database()
    finally:
        shutil.rmtree(path if temporary else path / "run", ignore_errors=True)


if __name__ == "__main__":
    main()
