"""Stats benchmark: `Desk.stats` over a year of a 700-requests-a-day desk, on SQLite.

    python bench/stats.py                    # builds /tmp/bench-stats-year once (~6 min), reuses it
    python bench/stats.py /tmp/year --force  # rebuild it
    python bench/stats.py /tmp/small --days 30 --per-day 100

Builds the desk with bench/bigdesk.py (--days 365 --per-day 700: 255,500 requests, ~1M
messages, their events and ratings) unless PATH already has one, then times, in this process,
`Desk.stats` for the whole period by day, by week, by agent, by tag and by language (median
of 5 runs, after one untimed run that warms the OS file cache), and the whole
`supportdesk stats --json` process (start-up, imports and output included, median of 3).
Prints one JSON line per figure. Acceptance: under 1 s by day and by agent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bigdesk import build  # noqa: E402 - bench/ is on sys.path: run as a script

from supportdesk.config import load_settings  # noqa: E402
from supportdesk.desk import open_desk  # noqa: E402


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, nargs="?", default=Path("/tmp/bench-stats-year"))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=700)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--force", action="store_true", help="rebuild the desk")
    args = parser.parse_args()
    db = args.path / "desk.db"
    if args.force:
        for p in args.path.glob("desk.db*"):
            p.unlink()
    if not db.exists():
        requests = args.days * args.per_day
        emit(build(args.path, requests, 4 * requests, min(40_000, requests // 5), 1, args.days))
    config = args.path / "config.toml"
    desk = open_desk(load_settings(config))
    with desk.db.read() as conn:
        sizes = {
            table: conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar()
            for table in ("request", "message", "event", "rating")
        }
    emit({"what": "desk", "path": str(args.path), **sizes})
    now = desk.clock.now()
    since = now - timedelta(days=args.days)
    for by in ("day", "week", "agent", "tag", "language"):
        desk.stats(since, now, by)  # warm: the OS file cache and SQLite's
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            report = desk.stats(since, now, by)
            times.append(time.perf_counter() - started)
        emit(
            {
                "what": f"Desk.stats by {by}",
                "days": args.days,
                "groups": len(report.groups),
                "median_s": round(statistics.median(times), 3),
                "max_s": round(max(times), 3),
                "new": report.total.new,
                "answered": report.total.answered,
            }
        )
    desk.close_database()
    command = [
        sys.executable,
        "-m",
        "supportdesk",
        "--config",
        str(config),
        "stats",
        "--since",
        f"{args.days}d",
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    times = []
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode:
            raise SystemExit(done.stderr.decode(errors="replace"))
    emit(
        {
            "what": f"supportdesk stats --since {args.days}d --json (process)",
            "median_s": round(statistics.median(times), 3),
            "bytes": len(done.stdout),
        }
    )


if __name__ == "__main__":
    main()
