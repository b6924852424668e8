"""Claims under load: agent processes take and answer requests as fast as they can while one
poller takes in thousands of new messages from a local IMAP server.

    python bench/claims.py                          # SQLite in a temp folder, 10 agents, 5,000
    python bench/claims.py --agents 4 --messages 1000
    python bench/claims.py --database postgresql+psycopg://user@127.0.0.1:5433/benchdesk

Everything runs on this machine and loopback: pymap (in this process) serves a mailbox of
--messages sample emails (SampleMailbox: English and Russian, threads that answer earlier
mail, 10 % with attachments); `supportdesk fetch --watch` (the real command) is the poller;
--agents worker processes each open the desk and loop: `Desk.claim_next(login)` (timed),
then `Desk.reply(...)` on what they got, until the poller has stored every message and the
stack is empty. The outgoing transport is "none": answers stay in the outbox, to be counted.

Checked afterwards, from the database and the workers' own records:
- no request was held by two agents at once: in each request's events, every claim is
  followed by the same agent's reply (or a release) before another agent's claim;
- every message was stored exactly once (count and distinct Message-IDs);
- every answer a worker was told is queued exists in the outbox exactly once, and nothing
  else is there.

One JSON line per figure on stdout: throughput (answers per second while the poller ran and
overall), claim_next p50/p99/max in ms, how many claim_next calls found nothing, and the
checks. Progress on stderr. A failed check exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CONFIG = """\
[desk]
name = "Claims bench"
address = "support@example.com"
database = "{database}"
agent = "agent01"

[mailbox]
kind = "imap"
host = "127.0.0.1"
port = {port}
security = "none"
username = "{username}"
password_env = "BENCH_IMAP_PASSWORD"
poll_interval = "1s"
batch_bytes = 400000

[outgoing]
kind = "none"
"""


def worker(config: Path, login: str, out: Path) -> None:
    """One agent: take the top request, answer it, again, until there is nothing left."""
    from supportdesk.config import load_settings
    from supportdesk.desk import open_desk

    desk = open_desk(load_settings(config), upgrade=False)
    done_flag = config.parent / "ingested"
    records: list[dict[str, Any]] = []
    empty = 0
    while True:
        started = time.perf_counter()
        taken = desk.claim_next(login)
        took = time.perf_counter() - started
        if taken is None:
            empty += 1
            if done_flag.exists() and not desk.stack(1):
                break
            time.sleep(0.005)  # the poller has more to come
            continue
        message_id = desk.reply(taken.number, f"Answered by {login}.", login)
        records.append({"n": taken.number, "claim_s": took, "message_id": message_id})
    out.write_text(json.dumps({"login": login, "empty": empty, "answers": records}))
    desk.close_database()


def emit(figure: dict[str, Any]) -> None:
    print(json.dumps(figure, ensure_ascii=False), flush=True)


def progress(started: float, what: str) -> None:
    sys.stderr.write(f"{time.perf_counter() - started:7.1f} s  {what}\n")
    sys.stderr.flush()


def check_claims(events: list[tuple[int, str, str]]) -> list[str]:
    """Events (request, kind, actor) in order: a claim must end (reply, release, close)
    by its holder before another agent claims the request."""
    holder: dict[int, str | None] = {}
    problems = []
    for number, kind, actor in events:
        if kind == "claim":
            current = holder.get(number)
            if current is not None and current != actor:
                problems.append(f"#{number}: {actor} claimed it while {current} held it")
            holder[number] = actor
        elif kind == "claim_expired" or (
            kind in ("reply", "reminder", "release", "close") and holder.get(number) == actor
        ):
            holder[number] = None
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--database", help="default: sqlite:///desk.db in the temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument(
        "--worker", nargs=3, metavar=("CONFIG", "LOGIN", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), args.worker[1], Path(args.worker[2]))
        return

    from sqlalchemy import text

    from supportdesk.config import load_settings
    from supportdesk.desk import open_desk
    from supportdesk.samples import SampleMailbox
    from tests.servers.pymap_server import PymapServer, _LoopThread

    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="claims-bench-"))
    loop = _LoopThread()
    server = PymapServer(loop)
    try:
        mail = list(
            SampleMailbox(seed=5, customers=max(50, args.messages // 8)).messages(args.messages)
        )
        server.deliver(mail)
        progress(
            started, f"{len(mail):,} messages in the IMAP mailbox (pymap, 127.0.0.1:{server.port})"
        )
        config = folder / "config.toml"
        config.write_text(
            CONFIG.format(
                database=args.database or "sqlite:///desk.db",
                port=server.port,
                username=server.username,
            ),
            encoding="utf-8",
        )
        desk = open_desk(load_settings(config))
        logins = [f"agent{i:02d}" for i in range(1, args.agents + 1)]
        for login in logins:
            desk.add_agent(login, name=login.title(), email=f"{login}@example.com")
        dialect = desk.db.dialect
        env = {**os.environ, "BENCH_IMAP_PASSWORD": server.password}
        env.pop("SUPPORTDESK_CONFIG", None)
        poller = subprocess.Popen(
            [sys.executable, "-m", "supportdesk", "--config", str(config), "fetch", "--watch"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "poller.log").open("wb"),
        )
        t0 = time.perf_counter()
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    str(config),
                    login,
                    str(folder / f"{login}.json"),
                ],
                env=env,
            )
            for login in logins
        ]

        def stored() -> int:
            with desk.db.read() as conn:
                return int(
                    conn.execute(
                        text("SELECT count(*) FROM message WHERE direction = 'in'")
                    ).scalar()
                    or 0
                )

        while (count := stored()) < len(mail):
            if poller.poll() is not None:
                raise SystemExit(f"the poller stopped: {(folder / 'poller.log').read_text()}")
            time.sleep(0.2)
        ingest_s = time.perf_counter() - t0
        (folder / "ingested").write_text("")
        progress(started, f"poller stored {count:,} messages in {ingest_s:.1f} s")
        for w in workers:
            w.wait()
        total_s = time.perf_counter() - t0
        poller.terminate()
        poller.wait(timeout=60)
        progress(started, f"agents done in {total_s:.1f} s")

        results = [json.loads((folder / f"{login}.json").read_text()) for login in logins]
        answers = [a for r in results for a in r["answers"]]
        claim_ms = sorted(a["claim_s"] * 1000 for a in answers)
        with desk.db.read() as conn:
            events = [
                (int(n), str(k), str(a))
                for n, k, a in conn.execute(
                    text(
                        "SELECT request_id, kind, actor FROM event WHERE request_id IS NOT NULL "
                        "ORDER BY id"
                    )
                )
            ]
            messages = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT message_id) FROM message "
                    "WHERE direction = 'in'"
                )
            ).one()
            replies = [
                str(m)
                for (m,) in conn.execute(
                    text(
                        "SELECT message_id FROM message WHERE direction = 'out' AND kind = 'reply'"
                    )
                )
            ]
        told = [a["message_id"] for a in answers]
        double = check_claims(events)
        per_request: dict[int, int] = defaultdict(int)
        for a in answers:
            per_request[a["n"]] += 1
        checks = {
            "no_request_held_by_two_agents": not double,
            "every_message_stored_once": tuple(messages) == (len(mail), len(mail)),
            "every_answer_in_the_outbox_once": sorted(told) == sorted(replies)
            and len(set(replies)) == len(replies),
        }
        emit(
            {
                "what": f"claims under load on {dialect}",
                "agents": args.agents,
                "messages": len(mail),
                "requests_answered": len(per_request),
                "answers": len(answers),
                "ingest_s": round(ingest_s, 1),
                "total_s": round(total_s, 1),
                "answers_per_s": round(len(answers) / total_s, 1),
                "claim_next_p50_ms": round(statistics.median(claim_ms), 2),
                "claim_next_p99_ms": round(claim_ms[int(len(claim_ms) * 0.99)], 2),
                "claim_next_max_ms": round(claim_ms[-1], 2),
                "empty_claims": sum(r["empty"] for r in results),
                **checks,
            }
        )
        for problem in double[:10]:
            sys.stderr.write(problem + "\n")
        desk.close_database()
        if not all(checks.values()):
            raise SystemExit(1)
    finally:
        server.stop()
        loop.close()
        if args.keep:
            sys.stderr.write(f"kept {folder}\n")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
