"""Customer text of any size: one 2 MB email among ordinary ones (issue 14).

    python bench/bigbody.py                      # SQLite desk in a temporary folder
    python bench/bigbody.py --database postgresql+psycopg://user@host/db   # an EMPTY database
    python bench/bigbody.py --parts search       # only some parts: show, search, console

Builds a desk: `--ordinary` sample messages (supportdesk.samples), one message whose text body
is 2 MB (a pasted log: 25,000 lines, each with the words "hello" and "invoice") and one with an
attachment named `[a==x.pdf`. Then it times:

- show: `supportdesk requests show N` as a subprocess, for the big request and for an ordinary
  one (the difference is what the body costs), and the same in-process (Rich rendering only);
- search: `Desk.search(query, limit=200)` (what the console's search asks) for a word the big
  message holds 25,000 times and that many ordinary messages hold too, for a word only the
  ordinary ones hold, and for a word only the big one holds;
- console: the Textual pilot (120x40) opening the big request: seconds from `open_request`
  until the screen is drawn (the request read ahead, as when the cursor rested on it, and not),
  then the "show all" key.

Prints one JSON line per figure. Acceptance (issue 14): the first screen of the big request in
under 0.1 s, `requests show` of it not seconds, a search that matches it in well under a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from supportdesk.config import load_settings  # noqa: E402
from supportdesk.desk import Desk, open_desk  # noqa: E402
from supportdesk.samples import SampleMailbox, write_maildir  # noqa: E402

CONFIG = """\
[desk]
name = "Acme Support"
address = "support@example.com"
database = "{database}"
agent = "bench"

[mailbox]
kind = "none"

[outgoing]
kind = "none"
"""
BIG_SUBJECT = "Export log attached inline"


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def big_body(size: int = 2_000_000) -> str:
    lines = []
    total = 0
    n = 0
    while total < size:
        n += 1
        line = (
            f"2026-01-05 08:{n // 60 % 60:02d}:{n % 60:02d} INFO worker-{n % 7} hello: "
            f"invoice {n} exported to zqxlogline batch {n * 7 % 1000}, status ok\n"
        )
        lines.append(line)
        total += len(line)
    return "".join(lines)


def mail(subject: str, body: str, *, attachment: str | None = None, n: int = 0) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Dora Big <dora@big.example>"
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(SampleMailbox().now)
    msg["Message-ID"] = f"<bigbody.{n}@big.example>"
    msg.set_content(body)
    if attachment:
        msg.add_attachment(
            b"%PDF-1.4\n", maintype="application", subtype="pdf", filename=attachment
        )
    return msg.as_bytes()


def build(folder: Path, database: str, ordinary: int) -> tuple[Desk, int, int, int]:
    """The desk, and the numbers of the big request, the attachment one and an ordinary one."""
    (folder / "config.toml").write_text(CONFIG.format(database=database), encoding="utf-8")
    settings = load_settings(folder / "config.toml")
    desk = open_desk(settings)
    desk.ensure_agent("bench", name="Bench Agent")
    raws = list(SampleMailbox(seed=14, attachment_bytes=2_000).messages(ordinary))
    raws.append(mail(BIG_SUBJECT, big_body(), n=1))
    raws.append(mail("The file", "Here it is.", attachment="[a==x.pdf", n=2))
    maildir = write_maildir(folder / "import", raws)
    started = time.perf_counter()
    desk.import_mail(maildir)
    emit(
        {
            "figure": "build",
            "messages": len(raws),
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    found = {r.subject: r.number for r in desk.list_requests(limit=100_000)}
    return desk, found[BIG_SUBJECT], found["The file"], found[next(iter(found))]


def part_show(folder: Path, desk: Desk, big: int, small: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    env.pop("SUPPORTDESK_CONFIG", None)
    config = str(folder / "config.toml")
    for label, number in (("ordinary", small), ("2 MB body", big)):
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "supportdesk",
                "--config",
                config,
                "requests",
                "show",
                str(number),
            ],
            capture_output=True,
            env=env,
            check=False,
        )
        emit(
            {
                "figure": "requests show (subprocess)",
                "request": label,
                "exit": done.returncode,
                "stdout_mb": round(len(done.stdout) / 1e6, 2),
                "seconds": round(time.perf_counter() - started, 3),
            }
        )


def part_search(desk: Desk) -> None:
    for label, query in (
        ("the big message and the ordinary ones (25,000 times in the big one)", "hello"),
        ("the big message and some ordinary ones", "invoice"),
        ("two words, both in the big message", "hello invoice"),
        ("ordinary messages only", "password"),
        ("the big message only", "zqxlogline"),
    ):
        times = []
        hits: list[Any] = []
        for _ in range(3):
            started = time.perf_counter()
            cpu = time.process_time()
            hits = desk.search(query, limit=200)
            times.append((time.perf_counter() - started, time.process_time() - cpu))
        best = min(times)
        emit(
            {
                "figure": "search",
                "matches": label,
                "query": query,
                "hits": len(hits),
                "seconds": round(best[0], 3),
                "cpu_seconds": round(best[1], 3),
                "big_message_among_hits": any(h.subject == BIG_SUBJECT for h in hits),
                "longest_snippet": max((len(h.snippet) for h in hits), default=0),
            }
        )


def part_console(desk: Desk, big: int, small: int, rounds: int = 5) -> None:
    """Median of `rounds` openings of an ordinary request and of the big one: the difference
    is the work the body's size costs (the rest is pushing any screen in the pilot)."""
    import statistics

    from supportdesk.ui.app import make_app
    from supportdesk.ui.screens.request import MessageView, RequestScreen, load

    async def open_one(app: Any, pilot: Any, number: int, ahead: bool) -> tuple[float, float]:
        app.ahead.clear()
        if ahead:
            app.ahead[number] = load(desk, number)
        started, cpu = time.perf_counter(), time.process_time()
        app.open_request(number)
        while not (isinstance(app.screen, RequestScreen) and app.screen.query(MessageView)):
            await asyncio.sleep(0.001)
        await pilot.pause()
        return time.perf_counter() - started, time.process_time() - cpu

    async def run() -> None:
        app = make_app(desk, "bench", background=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            medians: dict[tuple[str, bool], tuple[float, float]] = {}
            for label, number, ahead in (
                ("ordinary", small, True),
                ("2 MB body", big, True),
                ("2 MB body", big, False),
            ):
                times = []
                for _ in range(rounds):
                    times.append(await open_one(app, pilot, number, ahead))
                    await pilot.press("escape")
                    await pilot.pause()
                wall = statistics.median(t[0] for t in times)
                cpu = statistics.median(t[1] for t in times)
                medians[(label, ahead)] = (wall, cpu)
                emit(
                    {
                        "figure": "console: open a request until its screen is drawn",
                        "request": label,
                        "read_ahead": ahead,
                        "seconds": round(wall, 3),
                        "cpu_seconds": round(cpu, 3),
                    }
                )
            extra = medians[("2 MB body", True)][1] - medians[("ordinary", True)][1]
            emit({"figure": "console: the 2 MB body's own work", "cpu_seconds": round(extra, 3)})
            await open_one(app, pilot, big, True)
            key = next(
                (b.key for b in app.screen.BINDINGS if getattr(b, "action", "") == "show_all"),
                None,
            )
            if key is not None:
                started = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                emit(
                    {
                        "figure": "console: show all of the 2 MB body",
                        "seconds": round(time.perf_counter() - started, 3),
                    }
                )

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite:///desk.db")
    parser.add_argument("--ordinary", type=int, default=2000)
    parser.add_argument("--parts", default="show,search,console")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(prefix="bigbody.") as tmp:
        folder = Path(tmp)
        desk, big, _attached, small = build(folder, args.database, args.ordinary)
        try:
            if "search" in parts:
                part_search(desk)
            if "show" in parts:
                part_show(folder, desk, big, small)
            if "console" in parts:
                part_console(desk, big, small)
        finally:
            desk.close_database()


if __name__ == "__main__":
    main()
