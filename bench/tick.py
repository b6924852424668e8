"""How long the tick takes: `Desk.tick()` and `supportdesk tick` on a desk of 200,000 requests.

    python bench/tick.py                       # build in a temp folder (removed afterwards)
    python bench/tick.py /tmp/tickdesk         # build there once, reuse it on later runs
    python bench/tick.py /tmp/tickdesk --runs 5
    python bench/tick.py /tmp/small --requests 20000

PATH gets config.toml (mailbox and outgoing kind "none", the default workflow and SLA:
follow-ups after 2 days, 2 reminders, auto-close with closed_no_reply, first answer in 12 h,
warned 2 h before), desk.db and tick-bench.json (what was built, and the time "now" it was
built for). A PATH holding tick-bench.json is reused as it is (its schema upgraded if
needed); --force builds it again. A PATH holding any other desk.db is refused.

The desk (~65 s to build, ~470 MB): the schema from the migrations (FTS triggers included)
through `open_desk`, then 40,000 customers and 200,000 requests over two years with ~2.2
short messages each (no raw bytes: the tick does not read them) and one event per message,
written with `insert_rows` inside `Database.bulk()`. Seeded; the dates end at the build's
"now". Most requests are closed, 8 % of those never answered, sla_due_at and sla_mark set as
the tick would have left them. At the top end, as when the tick has not run for a while:

- 7,100 `waiting` requests with no reminder yet (last answer 0-60 h ago), one (0-4 days)
  and two (0-8 days): ~1,760 due for a follow-up and ~470 for auto-close, each with its
  customer and an agent's last answer for closed_no_reply;
- 420 on the stack, 300 of them (`new`, or `open` after a second mail) without a first
  answer: deadlines 12 % past (most already marked), 15 % within 2 h, the rest later;
- 80 claims, ~60 of them run out (on the stack and on waiting requests).

Each run is on a fresh copy of desk.db (PATH/run/desk.db, copied from the built one, which
stays untouched; the copy sits in the OS file cache, as a working desk's database does),
with the clock frozen at the build's "now" (`FrozenClock` in-process, SUPPORTDESK_NOW for
the command), so a reused desk has the same work due. Medians of --runs copies:

- `Desk.tick()` with work: the catch-up tick above, timed with perf_counter in-process
  (the desk opened before), with the counts of its TickReport;
- `Desk.tick()` idle: the ticks right after it (5 per copy), nothing due: what runs every
  minute;
- `supportdesk tick --json`, with work and then idle: the command as a subprocess, wall
  time from start to exit (Python start-up, opening the desk, JSON output included).

Progress goes to stderr; one JSON line per figure on stdout, the last one compares with the
target: a tick on 200,000 requests in under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bigdesk import (  # noqa: E402 - the same desk settings, agents and row helpers
    AGENTS,
    CONFIG,
    DESK_ADDRESS,
    DESK_NAME,
    GREETING,
    HOUR,
    THANKS,
    _event,
    _weighted,
)

from supportdesk.clock import FrozenClock  # noqa: E402
from supportdesk.config import load_settings  # noqa: E402
from supportdesk.desk import open_desk  # noqa: E402
from supportdesk.samples import FILLER, TOPICS_EN, TOPICS_RU, SampleMailbox  # noqa: E402
from supportdesk.store.intake import insert_rows  # noqa: E402

MARKER = "tick-bench.json"
TARGET_MS = 2000.0
ANSWERS = {
    "en": [
        "I have fixed this on our side; please try again.",
        "a fix goes out with the next update, in a few days.",
        "the corrected invoice is under Settings > Billing.",
        "could you send us a screenshot of the error?",
        "the refund is on its way (three to five working days).",
    ],
    "ru": [
        "я исправил это на нашей стороне, попробуйте ещё раз.",
        "исправление выйдет с ближайшим обновлением.",
        "исправленный счёт есть в разделе Настройки > Оплата.",
        "пришлите, пожалуйста, снимок экрана с ошибкой.",
    ],
}
STILL = {"en": "It still does not work, see above.", "ru": "Всё ещё не работает."}
CLOSE_REASONS = [("resolved", 76), ("no_reply", 14), ("duplicate", 5), ("idea", 4), ("spam", 1)]
UNANSWERED_CLOSE = [("spam", 4), ("duplicate", 4), ("resolved", 2)]
SLA = timedelta(hours=12)
WARN = timedelta(hours=2)
DAY = 24 * HOUR


# -- the desk -------------------------------------------------------------------------------


class Builder:
    """Plans every request (status, times, messages), then writes them in chunks."""

    def __init__(self, requests: int, customers: int, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.n = requests
        self.now = now
        self.start = now - timedelta(days=730)
        self.customers = SampleMailbox(seed=seed, customers=customers).customers
        self.message_pk = 0
        self.plans = self._plan()

    def _scaled(self, count: int) -> int:
        return max(1, round(count * self.n / 200_000))

    def _ago(self, lo: float, hi: float) -> datetime:
        """A time between `lo` and `hi` seconds before now."""
        return self.now - timedelta(seconds=self.rng.uniform(lo, hi))

    def _plan(self) -> list[dict[str, Any]]:
        rng, now = self.rng, self.now
        plans: list[dict[str, Any]] = []
        # Waiting for the customer: with 0, 1 or 2 reminders sent (each one an answer after a
        # follow-up), the last answer up to 60 h, 4 days and 8 days ago.
        for reminders, count, oldest in (
            (0, 5000, 60 * HOUR),
            (1, 1500, 4 * DAY),
            (2, 600, 8 * DAY),
        ):
            for _ in range(self._scaled(count)):
                outs = [self._ago(60, oldest)]
                for _ in range(reminders):
                    outs.insert(0, outs[0] - timedelta(seconds=2 * DAY + rng.uniform(60, 6 * HOUR)))
                created = outs[0] - timedelta(seconds=120 + rng.expovariate(1 / (5 * HOUR)))
                times = [("in", created)] + [("out", t) for t in outs]
                plans.append({"status": "waiting", "reminders": reminders, "times": times})
        # On the stack without a first answer: deadlines 12 % past, 15 % within 2 h, the rest
        # later; a fifth of them open (the customer wrote again before anyone answered).
        for _ in range(self._scaled(300)):
            roll, mark = rng.random(), None
            if roll < 0.12:  # past: most of them marked by an earlier tick
                due = self._ago(60, 10 * HOUR)
                mark = _weighted(rng, [("overdue", 2), ("warn", 1), (None, 1)])
            elif roll < 0.27:  # within 2 h
                due = now + timedelta(seconds=rng.uniform(60, WARN.total_seconds()))
                mark = "warn" if rng.random() < 0.2 else None
            else:
                due = now + timedelta(
                    seconds=rng.uniform(WARN.total_seconds(), SLA.total_seconds())
                )
            created = due - SLA
            times = [("in", created)]
            if rng.random() < 0.2:
                times.append(("in", created + (now - created) * rng.uniform(0.3, 0.9)))
            status = "open" if len(times) > 1 else "new"
            plans.append({"status": status, "times": times, "sla_mark": mark})
        # Open again: the customer answered our answer.
        for _ in range(self._scaled(120)):
            last_in = self._ago(60, 20 * HOUR)
            out = last_in - timedelta(seconds=rng.uniform(HOUR, 3 * DAY))
            created = out - timedelta(seconds=120 + rng.expovariate(1 / (5 * HOUR)))
            plans.append(
                {"status": "open", "times": [("in", created), ("out", out), ("in", last_in)]}
            )
        # Closed: the rest, over two years.
        span = (now - self.start).total_seconds() - DAY
        for _ in range(self.n - len(plans)):
            created = self.start + timedelta(seconds=rng.uniform(0, span))
            times = [("in", created)]
            kind = rng.random()
            if kind > 0.08:  # answered
                t = created + timedelta(seconds=120 + rng.expovariate(1 / (5 * HOUR)))
                times.append(("out", t))
                if kind > 0.70:  # and thanked
                    times.append(("in", t + timedelta(seconds=300 + rng.expovariate(1 / DAY))))
            limit = now - timedelta(minutes=5)
            times = [(d, min(t, limit)) for d, t in times]
            plans.append({"status": "closed", "times": times})
        plans.sort(key=lambda p: p["times"][0][1])
        # Claims: a few on the stack and on waiting requests, most of them run out.
        stack = [p for p in plans if p["status"] in ("new", "open")]
        waiting = [p for p in plans if p["status"] == "waiting"]
        for p in rng.sample(stack, min(len(stack), self._scaled(60))):
            alive = rng.random() < 0.4
            p["claim"] = (
                now + timedelta(seconds=rng.uniform(60, 600)) if alive else self._ago(60, 3 * HOUR)
            )
        for p in rng.sample(waiting, min(len(waiting), self._scaled(20))):
            p["claim"] = self._ago(60, 3 * HOUR)
        c = len(self.customers)
        for p in plans:
            p["customer"] = min(c - 1, int(c * rng.random() ** 1.5))
        return plans

    def customer_rows(self) -> list[dict[str, Any]]:
        first_seen: dict[int, datetime] = {}
        for p in reversed(self.plans):
            first_seen[p["customer"]] = p["times"][0][1]
        return [
            {
                "id": cid + 1,
                "email": email,
                "name": name,
                "created_at": first_seen.get(cid, self.start),
                "last_ack_at": None,
            }
            for cid, (name, email) in enumerate(self.customers)
        ]

    def chunk(self, lo: int, hi: int) -> dict[str, list[dict[str, Any]]]:
        """The rows of requests lo+1..hi."""
        out: dict[str, list[dict[str, Any]]] = {"request": [], "message": [], "event": []}
        for i in range(lo, hi):
            self._request(i + 1, self.plans[i], out)
        return out

    def _request(
        self, rid: int, plan: dict[str, Any], out: dict[str, list[dict[str, Any]]]
    ) -> None:
        rng, status, times = self.rng, plan["status"], plan["times"]
        name, email = self.customers[plan["customer"]]
        lang = "ru" if rng.random() < 0.2 else "en"
        topic, body = rng.choice(TOPICS_RU if lang == "ru" else TOPICS_EN)
        login, agent_name = AGENTS[rng.randrange(len(AGENTS))]
        domain = email.split("@")[1]
        first_out = last_out = None
        last_in = times[0][1]
        for k, (direction, when) in enumerate(times):
            self.message_pk += 1
            pk = self.message_pk
            inbound = direction == "in"
            if inbound:
                mid = f"m{pk}@{domain}"
                if k == 0:
                    text = f"Hello,\n\n{body[:90]}\n\n{rng.choice(FILLER)},\n{name}\n"
                else:
                    text = f"{THANKS[lang] if status == 'closed' else STILL[lang]}\n\n{name}\n"
                from_addr, from_name, to_addr = email, name, DESK_ADDRESS
                last_in = when
                reason = "new" if k == 0 else "customer_reply"
                detail = None if k == 0 else {"message_id": mid}
                event = _event(rid, when, "system", "push", reason, detail)
            else:
                mid = f"sd.{pk}@example.com"
                greeting = GREETING[lang].format(name.split()[0])
                text = f"{greeting},\n\n{rng.choice(ANSWERS[lang])}\n\n{agent_name}\n{DESK_NAME}\n"
                from_addr, from_name, to_addr = DESK_ADDRESS, f"{agent_name} ({DESK_NAME})", email
                first_out = first_out or when
                last_out = when
                event = _event(rid, when, login, "reply", None, {"message_id": mid})
            out["event"].append(event)
            out["message"].append(
                {
                    "id": pk,
                    "request_id": rid,
                    "message_id": mid,
                    "direction": direction,
                    "kind": "mail" if inbound else "reply",
                    "status": "received" if inbound else "sent",
                    "from_addr": from_addr,
                    "from_name": from_name,
                    "to_addrs": to_addr,
                    "cc_addrs": "",
                    "reply_to": "",
                    "subject": topic if k == 0 else f"Re: {topic} [#{rid}]",
                    "text": text,
                    "date": when,
                    "received_at": when,
                    "in_reply_to": None,
                    "references": "",
                    "sha256": "",
                    "size": len(text),
                    "warnings": None,
                    "automatic": None,
                    "html_only": False,
                    "agent_login": None if inbound else login,
                    "attempts": 0 if inbound else 1,
                    "next_attempt_at": None,
                    "sent_at": None if inbound else when,
                    "last_error": None,
                }
            )
        created, updated = times[0][1], times[-1][1]
        reminders = plan.get("reminders", 0)
        closed_at = close_reason = None
        if status == "closed":
            close_reason = _weighted(rng, CLOSE_REASONS if last_out else UNANSWERED_CLOSE)
            if close_reason == "no_reply":
                reminders = 2
            later = timedelta(seconds=300 + rng.expovariate(1 / (30 * HOUR)))
            closed_at = updated = min(self.now - timedelta(minutes=1), updated + later)
            actor = "system" if close_reason == "no_reply" else login
            out["event"].append(_event(rid, closed_at, actor, "close", close_reason))
        sla_due = created + SLA if rng.random() < 0.95 or status != "closed" else None
        sla_mark = plan.get("sla_mark")
        if first_out is not None and sla_due is not None:  # what the tick marked back then
            late = first_out - sla_due
            sla_mark = "overdue" if late > timedelta(0) else "warn" if late > -WARN else None
        claimed_until = plan.get("claim")
        out["request"].append(
            {
                "id": rid,
                "customer_id": plan["customer"] + 1,
                "subject": topic,
                "status": status,
                "reason": {"new": "new", "waiting": "answered"}.get(status, "customer_reply"),
                "reminder_count": reminders,
                "priority": "high" if rng.random() < 0.05 else "normal",
                "language": lang,
                "assignee": None,
                "claimed_by": login if claimed_until else None,
                "claimed_until": claimed_until,
                "created_at": created,
                "pushed_at": last_in,
                "updated_at": updated,
                "first_response_at": first_out,
                "last_inbound_at": last_in,
                "last_outbound_at": last_out,
                "closed_at": closed_at,
                "close_reason": close_reason,
                "message_count": len(times),
                "inbound_count": sum(1 for d, _ in times if d == "in"),
                "sla_due_at": sla_due,
                "sla_mark": sla_mark,
            }
        )


def build(path: Path, requests: int, customers: int, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    path.mkdir(parents=True, exist_ok=True)
    for p in [path / MARKER, *path.glob("desk.db*")]:
        p.unlink(missing_ok=True)
    config = path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    desk = open_desk(load_settings(config), FrozenClock(now - timedelta(days=731)))
    for login, name in AGENTS:
        desk.ensure_agent(login, name=name, email=DESK_ADDRESS)
    builder = Builder(requests, customers, seed, now)
    progress(f"planned {requests:,} requests", started)
    step = 10_000
    db = desk.db
    with db.bulk():
        with db.write() as conn:
            insert_rows(conn, "customer", builder.customer_rows())
        for lo in range(0, requests, step):
            hi = min(requests, lo + step)
            rows = builder.chunk(lo, hi)
            with db.write() as conn:
                for table in ("request", "message", "event"):
                    insert_rows(conn, table, rows[table])
            progress(f"requests {hi:,}/{requests:,}, messages {builder.message_pk:,}", started)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    desk.close_database()
    seconds = time.perf_counter() - started
    info = {"requests": requests, "customers": customers, "seed": seed, "now": now.isoformat()}
    info["build_s"] = round(seconds, 1)
    (path / MARKER).write_text(json.dumps(info) + "\n", encoding="utf-8")
    return info


def reuse(path: Path) -> dict[str, Any]:
    """The marker of a desk built before; its schema brought up to date (a no-op when it is)."""
    info: dict[str, Any] = json.loads((path / MARKER).read_text(encoding="utf-8"))
    desk = open_desk(load_settings(path / "config.toml"), FrozenClock(when(info)))
    with desk.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    desk.close_database()
    return info


def when(info: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(info["now"])


def stored(at: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite (naive UTC), for comparing in plain SQL."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def describe(path: Path, info: dict[str, Any]) -> dict[str, Any]:
    """What the desk holds and what is due at its "now" (straight SQL, read-only)."""
    import sqlite3

    now = when(info)
    silent, at, soon = (stored(now + d) for d in (timedelta(days=-2), timedelta(0), WARN))
    conn = sqlite3.connect(f"file:{path / 'desk.db'}?mode=ro", uri=True)
    try:

        def one(sql: str, *args: Any) -> int:
            return int(conn.execute(sql, args).fetchone()[0])

        unanswered = "status IN ('new', 'open') AND first_response_at IS NULL"
        return {
            **{
                t: one(f'SELECT count(*) FROM "{t}"')
                for t in ("customer", "request", "message", "event")
            },
            "waiting": one("SELECT count(*) FROM request WHERE status = 'waiting'"),
            "stack": one("SELECT count(*) FROM request WHERE status IN ('new', 'open')"),
            "due_follow_up": one(
                "SELECT count(*) FROM request WHERE status = 'waiting' "
                "AND last_outbound_at <= ? AND reminder_count < 2",
                silent,
            ),
            "due_close": one(
                "SELECT count(*) FROM request WHERE status = 'waiting' "
                "AND last_outbound_at <= ? AND reminder_count >= 2",
                silent,
            ),
            "claims_run_out": one("SELECT count(*) FROM request WHERE claimed_until <= ?", at),
            "claims_held": one("SELECT count(*) FROM request WHERE claimed_until > ?", at),
            "unanswered": one(f"SELECT count(*) FROM request WHERE {unanswered}"),
            "due_overdue": one(
                f"SELECT count(*) FROM request WHERE {unanswered} AND sla_due_at <= ? "
                "AND (sla_mark IS NULL OR sla_mark != 'overdue')",
                at,
            ),
            "due_warn": one(
                f"SELECT count(*) FROM request WHERE {unanswered} AND sla_due_at > ? "
                "AND sla_due_at <= ? AND sla_mark IS NULL",
                at,
                soon,
            ),
            "db_mb": round((path / "desk.db").stat().st_size / 1e6),
        }
    finally:
        conn.close()


# -- the measurements -----------------------------------------------------------------------


def fresh_copy(path: Path) -> Path:
    """run/ with its own config.toml and a copy of the built desk.db; returns run/."""
    run = path / "run"
    run.mkdir(exist_ok=True)
    for p in run.glob("desk.db*"):
        p.unlink(missing_ok=True)
    shutil.copyfile(path / "config.toml", run / "config.toml")
    shutil.copyfile(path / "desk.db", run / "desk.db")
    return run


def counts(report: dict[str, Any]) -> dict[str, int]:
    keys = ("follow_ups", "reminders", "closed", "notices", "claims_expired")
    return {k: len(report[k]) for k in (*keys, "sla_warned", "sla_overdue")}


def bench_in_process(path: Path, info: dict[str, Any], runs: int) -> tuple[float, float]:
    busy: list[float] = []
    idle: list[float] = []
    opened: list[float] = []
    done: dict[str, int] = {}
    for _ in range(runs):
        run = fresh_copy(path)
        t0 = time.perf_counter()
        desk = open_desk(load_settings(run / "config.toml"), FrozenClock(when(info)))
        opened.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        report = desk.tick()
        busy.append(time.perf_counter() - t0)
        done = counts(report.as_dict())
        for _ in range(5):
            t0 = time.perf_counter()
            again = desk.tick()
            idle.append(time.perf_counter() - t0)
            if again.changed:
                raise SystemExit(f"the second tick still found work: {again.lines()}")
        desk.close_database()
    emit({"what": "open_desk()", **stats(opened)})
    emit({"what": "Desk.tick() with work", **stats(busy), **done})
    emit({"what": "Desk.tick() idle (right after, nothing due)", **stats(idle)})
    return statistics.median(busy), statistics.median(idle)


def bench_command(path: Path, info: dict[str, Any], runs: int) -> float:
    """`supportdesk tick --json` twice on each fresh copy: with work, then idle."""
    program = Path(sys.executable).parent / "supportdesk"
    if not program.exists():
        program = Path(shutil.which("supportdesk") or "supportdesk")
    env = {k: v for k, v in os.environ.items() if k != "SUPPORTDESK_CONFIG"}
    env["SUPPORTDESK_NOW"] = info["now"]
    busy: list[float] = []
    idle: list[float] = []
    done: dict[str, dict[str, int]] = {}
    for _ in range(runs):
        run = fresh_copy(path)
        command = [str(program), "--config", str(run / "config.toml"), "tick", "--json"]
        for what, times in (("with work", busy), ("idle", idle)):
            t0 = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True, env=env)
            times.append(time.perf_counter() - t0)
            if result.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
            done[what] = counts(json.loads(result.stdout))
    emit({"what": "supportdesk tick --json with work", **stats(busy), **done["with work"]})
    emit(
        {
            "what": "supportdesk tick --json idle (right after, nothing due)",
            **stats(idle),
            **done["idle"],
        }
    )
    return statistics.median(busy)


def stats(times: list[float]) -> dict[str, Any]:
    if len(times) == 1:
        return {"ms": ms(times[0])}
    return {
        "ms": ms(statistics.median(times)),
        "min_ms": ms(min(times)),
        "max_ms": ms(max(times)),
        "n": len(times),
    }


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def emit(figure: dict[str, Any]) -> None:
    print(json.dumps(figure, ensure_ascii=False), flush=True)


def progress(what: str, started: float) -> None:
    sys.stderr.write(f"{time.perf_counter() - started:7.1f} s  {what}\n")
    sys.stderr.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, nargs="?", help="default: a temp folder, removed after")
    parser.add_argument("--requests", type=int, default=None, help="default: 200,000")
    parser.add_argument("--customers", type=int, default=None, help="default: ~40,000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="fresh copies per figure")
    parser.add_argument("--force", action="store_true", help="build PATH's desk again")
    args = parser.parse_args()
    temporary = args.path is None
    path = Path(tempfile.mkdtemp(prefix="tickdesk-")) if temporary else args.path.resolve()
    marker = path / MARKER
    if (path / "desk.db").exists() and not marker.exists():  # never someone else's desk
        raise SystemExit(f"{path / 'desk.db'} was not built by bench/tick.py; use another PATH")
    if marker.exists() and not args.force:
        built = json.loads(marker.read_text(encoding="utf-8"))["requests"]
        if args.requests not in (None, built):
            raise SystemExit(f"{path} holds a desk of {built:,} requests; use --force")
    try:
        if marker.exists() and not args.force:
            info, built = reuse(path), False
        else:
            requests = args.requests or 200_000
            customers = args.customers or max(10, min(40_000, requests // 5))
            info, built = build(path, requests, customers, args.seed), True
        emit(
            {"what": "tick desk", "path": str(path), "built": built, **info, **describe(path, info)}
        )
        busy, idle = bench_in_process(path, info, args.runs)
        command = bench_command(path, info, args.runs)
        emit(
            {
                "what": f"target: tick on {info['requests']:,} requests in under 2 s",
                "target_ms": TARGET_MS,
                "desk_tick_ms": ms(busy),
                "met_in_process": busy * 1000 < TARGET_MS,
                "command_ms": ms(command),
                "met_by_command": command * 1000 < TARGET_MS,
                "desk_tick_idle_ms": ms(idle),
            }
        )
    finally:
        shutil.rmtree(path if temporary else path / "run", ignore_errors=True)


if __name__ == "__main__":
    main()
