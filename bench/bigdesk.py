"""Build a big desk for the console benchmark (bench/console.py): two years of a busy team.

    python bench/bigdesk.py /tmp/bigdesk                      # 200,000 requests, 1,000,000 messages
    python bench/bigdesk.py /tmp/small --requests 2000 --messages 10000
    python bench/bigdesk.py /tmp/bigdesk --force              # replace an existing desk.db
    python bench/bigdesk.py /tmp/year --days 365 --per-day 700  # a year: 255,500 requests

PATH gets a config.toml (mailbox and outgoing kind "none", agent "bench") and desk.db: the
schema from the migrations (FTS triggers included, so search works), then customers, requests,
messages with their raw bytes (a small RFC 5322 message each), tags and events, written in large
transactions inside `Database.bulk()`. Everything but the dates is seeded; the dates end now.

About 40,000 customers, English and Russian subjects and bodies from `supportdesk.samples`,
1-15 messages per request alternating in/out, a stack of ~300 new/open requests, some waiting,
the rest closed. For the stats (bench/stats.py): each request has its first answer and its due
time (sla.first_response: 12 hours), answers and closes by agents, follow-ups, reminders,
reopenings and auto-closes (no_reply, by the system), and ratings (some with a comment).
Progress goes to stderr; the final figures are one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from supportdesk.config import load_settings  # noqa: E402
from supportdesk.desk import open_desk  # noqa: E402
from supportdesk.samples import FILLER, TOPICS_EN, TOPICS_RU, SampleMailbox  # noqa: E402
from supportdesk.store.intake import insert_rows  # noqa: E402

CONFIG = """\
# A benchmark desk built by bench/: no mail account, nothing is ever sent.
[desk]
name = "Acme Support"
address = "support@example.com"
database = "sqlite:///desk.db"
agent = "bench"

[mailbox]
kind = "none"

[outgoing]
kind = "none"
"""
DESK_NAME = "Acme Support"
DESK_ADDRESS = "support@example.com"
AGENTS = [
    ("bench", "Bench Agent"),
    ("anna", "Anna Berg"),
    ("boris", "Boris Orlov"),
    ("chloe", "Chloe Martin"),
    ("dmitry", "Dmitry Volkov"),
    ("eva", "Eva Lindqvist"),
]
ANSWERS_EN = [
    "thanks for writing to us. I have checked your account and fixed the problem on our "
    "side; please try again and let me know if it still does not work.",
    "I am sorry for the trouble. Our developers know about this and a fix goes out with "
    "the next update, in a few days. Until then, the web version works as usual.",
    "I have sent a corrected document to the address on your account. You will also find "
    "it under Settings > Billing.",
    "could you send us a screenshot of the error and the time it happened? Then we can "
    "find it in our logs.",
    "you can do this under Settings > Team > Invite. Each colleague gets an email with a "
    "link; they see the same projects as soon as they accept.",
    "the refund is on its way; depending on your bank it takes three to five working days.",
]
ANSWERS_RU = [
    "спасибо, что написали. Я проверил ваш аккаунт и исправил проблему на нашей стороне; "
    "попробуйте ещё раз и напишите, если не заработает.",
    "извините за неудобство. Разработчики знают об этой ошибке, исправление выйдет с "
    "ближайшим обновлением.",
    "я отправил исправленный счёт на адрес вашего аккаунта. Он также есть в разделе "
    "Настройки > Оплата.",
    "пришлите, пожалуйста, снимок экрана с ошибкой и время, когда она появилась.",
]
FOLLOW_UP = {
    "en": "Thanks for the quick answer. One more thing: ",
    "ru": "Спасибо за быстрый ответ. Ещё вопрос: ",
}
THANKS = {"en": "That worked, thank you!", "ru": "Всё заработало, спасибо!"}
GREETING = {"en": "Hello {}", "ru": "Здравствуйте, {}"}
SIGN_OFF = {"en": "Best regards", "ru": "С уважением"}
TOPIC_TAGS = {
    "Invoice shows the wrong amount": "billing",
    "Refund for double charge": "billing",
    "Change billing address": "billing",
    "Ошибка в счёте": "billing",
    "Export to CSV is broken": "bug",
    "App crashes on start": "mobile",
    "Приложение вылетает": "mobile",
    "Cannot log in": "login",
    "Не могу войти в аккаунт": "login",
    "Feature idea: dark mode": "feature",
}
OTHER_TAGS = ["vip", "bug", "escalated", "enterprise", "trial", "follow-up"]
CLOSE_REASONS = [("resolved", 70), ("no_reply", 18), ("duplicate", 4), ("idea", 4), ("spam", 2)]
HOUR = 3600.0
SLA = timedelta(hours=12)
RATING_COMMENTS = [
    "Quick and friendly, thank you!",
    "Solved in one answer.",
    "Took too long to get a reply.",
    "Спасибо, всё понятно объяснили.",
    "The answer did not really help.",
]


class Builder:
    """Plans every request up front (cheap), then writes them chunk by chunk."""

    def __init__(
        self, requests: int, messages: int, customers: int, seed: int, days: int = 730
    ) -> None:
        if not requests <= messages <= 15 * requests:
            raise SystemExit("--messages must be between --requests and 15 x --requests")
        self.rng = random.Random(seed)
        self.n = requests
        self.m = messages
        self.now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.days = days
        self.start = self.now - timedelta(days=days)
        self.span = (self.now - self.start).total_seconds() - 600
        self.customers = SampleMailbox(seed=seed, customers=customers).customers
        self.message_pk = 0
        self._headers: dict[str, str] = {}
        self._plan()

    # -- the plan: status, message count, customer and topic of each request ---------------

    def _plan(self) -> None:
        rng, n = self.rng, self.n
        stack = min(300, max(2, n // 50))
        n_new = max(1, stack * 2 // 5)
        n_open = stack - n_new
        n_waiting = min(3000, n // 60)
        window = min(n - n_new, max(int(n * 30 / self.days), 2 * (n_open + n_waiting)))
        recent = rng.sample(range(n - n_new - window, n - n_new), n_open + n_waiting)
        self.status = ["closed"] * n
        for i in range(n - n_new, n):
            self.status[i] = "new"
        for i in recent[:n_open]:
            self.status[i] = "open"
        for i in recent[n_open:]:
            self.status[i] = "waiting"
        counts = [0] * n
        closed: list[int] = []
        for i, status in enumerate(self.status):
            if status == "new":
                counts[i] = 1
            elif status == "open":  # the customer answered our answer: odd, ends with "in"
                counts[i] = 3 + 2 * min(6, int(rng.expovariate(1 / 1.2)))
            elif status == "waiting":  # we answered last: even
                counts[i] = 2 + 2 * min(6, int(rng.expovariate(1 / 1.2)))
            else:
                closed.append(i)
        fixed = sum(counts)
        if not closed or not len(closed) <= self.m - fixed <= 15 * len(closed):
            raise SystemExit("cannot fit that many messages; change --messages")
        mean_extra = max(0.05, (self.m - fixed) / len(closed) - 1)
        total = fixed
        for i in closed:  # skewed: many short conversations, a long tail up to 15
            extra = 15
            while extra > 14:
                extra = int(rng.expovariate(1 / mean_extra))
            counts[i] = 1 + extra
            total += counts[i]
        while total != self.m:  # exact total, one message at a time on closed requests
            i = closed[rng.randrange(len(closed))]
            if total < self.m and counts[i] < 15:
                counts[i] += 1
                total += 1
            elif total > self.m and counts[i] > 1:
                counts[i] -= 1
                total -= 1
        self.counts = counts
        c = len(self.customers)
        self.customer_of = [min(c - 1, int(c * rng.random() ** 1.5)) for _ in range(n)]
        self.created = [
            self.start + timedelta(seconds=self.span * (i + rng.random()) / n) for i in range(n)
        ]

    # -- rows -------------------------------------------------------------------------------

    def customer_rows(self) -> list[dict[str, Any]]:
        first_seen: dict[int, datetime] = {}
        for i in range(self.n - 1, -1, -1):
            first_seen[self.customer_of[i]] = self.created[i]
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
        """The rows of requests lo..hi-1 (numbers lo+1..hi)."""
        out: dict[str, list[dict[str, Any]]] = {
            "request": [],
            "request_tag": [],
            "message": [],
            "message_raw": [],
            "event": [],
            "rating": [],
        }
        first_pk = self.message_pk + 1
        for i in range(lo, hi):
            self._request(i, out)
        # A desk writes messages and events as they happen: their ids rise with their time
        # (within a chunk here; chunks overlap by the few days a conversation lasts).
        out["message"].sort(key=lambda m: m["received_at"])
        new_pk = {}
        for offset, row in enumerate(out["message"]):
            new_pk[row["id"]] = row["id"] = first_pk + offset
        for raw in out["message_raw"]:
            raw["message_pk"] = new_pk[raw["message_pk"]]
        out["message_raw"].sort(key=lambda r: r["message_pk"])
        out["event"].sort(key=lambda e: e["at"])
        out["rating"].sort(key=lambda g: g["at"])
        return out

    def _times(self, i: int) -> list[datetime]:
        rng, count, created = self.rng, self.counts[i], self.created[i]
        status = self.status[i]
        if count == 1:
            return [created]
        if status in ("open", "waiting"):  # the conversation ends in the last few days
            end = self.now - timedelta(hours=rng.uniform(0.2, 60 if status == "open" else 44))
            end = min(self.now, max(end, created + timedelta(minutes=count * 5)))
            gaps = sorted(rng.random() for _ in range(count - 1))
            spread = (end - created).total_seconds()
            return [created] + [created + timedelta(seconds=g * spread) for g in gaps]
        times, t = [created], created
        limit = self.now - timedelta(minutes=5)
        for k in range(1, count):
            # our answers come within hours, customers take longer
            mean = 5 * HOUR if k % 2 else 20 * HOUR
            t = min(limit, t + timedelta(seconds=120 + rng.expovariate(1 / mean)))
            times.append(t)
        return times

    def _request(self, i: int, out: dict[str, list[dict[str, Any]]]) -> None:
        rng = self.rng
        rid = i + 1
        status = self.status[i]
        cid = self.customer_of[i]
        name, email = self.customers[cid]
        first_name = name.split()[0]
        russian = rng.random() < 0.2
        lang = "ru" if russian else "en"
        topic, body = rng.choice(TOPICS_RU if russian else TOPICS_EN)
        times = self._times(i)
        agent_login, agent_name = AGENTS[rng.randrange(len(AGENTS))]
        domain = email.split("@")[1]
        thread: list[str] = []  # message-ids so far
        first_out: datetime | None = None
        last_in: datetime = times[0]
        last_out: datetime | None = None
        for k, when in enumerate(times):
            self.message_pk += 1
            pk = self.message_pk
            inbound = k % 2 == 0
            subject = topic if k == 0 else f"Re: {topic} [#{rid}]"
            if inbound:
                mid = f"m{pk}.{rng.getrandbits(40):x}@{domain}"
                if k == 0:
                    text = f"Hello,\n\n{body}\n\n{rng.choice(FILLER)},\n{name}\n"
                elif k == len(times) - 1 and status == "closed":
                    text = f"{THANKS[lang]}\n\n{name}\n" + _quote(out["message"][-1]["text"])
                else:
                    other = rng.choice(TOPICS_RU if russian else TOPICS_EN)[1]
                    text = f"{FOLLOW_UP[lang]}{other}\n\n{rng.choice(FILLER)},\n{name}\n" + _quote(
                        out["message"][-1]["text"]
                    )
                from_addr, from_name, to_addr = email, name, DESK_ADDRESS
                last_in = when
            else:
                ms = int(when.timestamp() * 1000)
                mid = f"sd.{ms}.{rng.getrandbits(64):016x}@example.com"
                answer = rng.choice(ANSWERS_RU if russian else ANSWERS_EN)
                text = (
                    f"{GREETING[lang].format(first_name)},\n\n{answer}\n\n"
                    f"{SIGN_OFF[lang]},\n{agent_name}\n{DESK_NAME}\n"
                )
                from_addr, from_name, to_addr = DESK_ADDRESS, f"{agent_name} ({DESK_NAME})", email
                first_out = first_out or when
                last_out = when
            parent = thread[-1] if thread else None
            references = thread[-20:]
            raw = self._raw(
                from_name, from_addr, to_addr, subject, when, mid, parent, references, text
            )
            sha = hashlib.sha256(raw).hexdigest()
            out["message"].append(
                {
                    "id": pk,
                    "request_id": rid,
                    "message_id": mid,
                    "direction": "in" if inbound else "out",
                    "kind": "mail" if inbound else "reply",
                    "status": "received" if inbound else "sent",
                    "from_addr": from_addr,
                    "from_name": from_name,
                    "to_addrs": to_addr,
                    "cc_addrs": "",
                    "reply_to": "",
                    "subject": subject,
                    "text": text,
                    "date": when,
                    "received_at": when,
                    "in_reply_to": parent,
                    "references": " ".join(references),
                    "sha256": sha,
                    "size": len(raw),
                    "warnings": None,
                    "automatic": None,
                    "html_only": False,
                    "agent_login": None if inbound else agent_login,
                    "attempts": 0 if inbound else 1,
                    "next_attempt_at": None,
                    "sent_at": None if inbound else when,
                    "last_error": None,
                }
            )
            out["message_raw"].append({"message_pk": pk, "sha256": sha, "raw": raw})
            if k == 0:
                out["event"].append(_event(rid, when, "system", "push", "new", None))
            elif inbound:
                detail = {"message_id": mid}
                # now and then the customer writes again after a while: the request reopens
                again = "reopened" if k >= 2 and rng.random() < 0.04 else "customer_reply"
                out["event"].append(_event(rid, when, "system", "push", again, detail))
            else:
                detail = {"message_id": mid}
                out["event"].append(_event(rid, when, agent_login, "reply", None, detail))
        closed_at = close_reason = None
        updated = times[-1]
        if status == "closed":
            close_reason = _weighted(rng, CLOSE_REASONS) if times[-1] != last_in else "resolved"
            if len(times) == 1:
                close_reason = _weighted(rng, [("spam", 3), ("duplicate", 3), ("no_reply", 4)])
            later = timedelta(seconds=300 + rng.expovariate(1 / (30 * HOUR)))
            closed_at = min(self.now - timedelta(minutes=1), times[-1] + later)
            updated = closed_at
            actor = "system" if close_reason == "no_reply" else agent_login
            if close_reason == "no_reply" and last_out is not None:
                # silent after our answer: back on the stack, a reminder, then the auto-close
                pushed = times[-1] + (closed_at - times[-1]) / 3
                reminded = pushed + (closed_at - pushed) / 10
                out["event"].append(_event(rid, pushed, "system", "push", "follow_up", None))
                out["event"].append(_event(rid, reminded, agent_login, "reminder", None, None))
            out["event"].append(_event(rid, closed_at, actor, "close", close_reason, None))
            if last_out is not None and rng.random() < 0.3:
                score = _weighted(rng, [(5, 60), (4, 25), (3, 7), (2, 4), (1, 4)])
                comment = rng.choice(RATING_COMMENTS) if rng.random() < 0.2 else ""
                out["rating"].append(
                    {
                        "request_id": rid,
                        "message_pk": None,
                        "agent_login": agent_login,
                        "score": score,
                        "good": score >= 4,
                        "politeness": score if rng.random() < 0.5 else None,
                        "proficiency": max(1, score - rng.randrange(2))
                        if rng.random() < 0.5
                        else None,
                        "comment": comment,
                        "at": min(
                            self.now - timedelta(seconds=30),
                            closed_at + timedelta(hours=rng.uniform(0.1, 6)),
                        ),
                    }
                )
        reason = {"new": "new", "open": "customer_reply", "waiting": "answered"}.get(
            status, "answered" if last_out and last_out > last_in else "customer_reply"
        )
        priority = "normal"
        tags: list[str] = []
        tag = TOPIC_TAGS.get(topic)
        if tag and rng.random() < 0.6:
            tags.append(tag)
            if tag == "billing":
                priority = "high"
        if rng.random() < 0.05:
            tags.append(rng.choice(OTHER_TAGS))
        if rng.random() < 0.01:
            priority = "urgent"
        out["request_tag"] += [{"request_id": rid, "tag": t} for t in dict.fromkeys(tags)]
        inbound_count = (len(times) + 1) // 2
        out["request"].append(
            {
                "id": rid,
                "customer_id": cid + 1,
                "subject": topic,
                "status": status,
                "reason": reason,
                "reminder_count": 0,
                "priority": priority,
                "language": lang,
                "assignee": None,
                "claimed_by": None,
                "claimed_until": None,
                "created_at": times[0],
                "pushed_at": last_in,
                "updated_at": updated,
                "first_response_at": first_out,
                "first_response_by": agent_login if first_out else None,
                "first_response_seconds": (first_out - times[0]).total_seconds()
                if first_out
                else None,
                # sla.first_response of the bench desk: 12 hours, no business hours
                "sla_due_at": times[0] + SLA,
                "last_inbound_at": last_in,
                "last_outbound_at": last_out,
                "closed_at": closed_at,
                "close_reason": close_reason,
                "message_count": len(times),
                "inbound_count": inbound_count,
            }
        )

    def _header(self, value: str) -> str:
        """A header value, RFC 2047-encoded when it is not ASCII (cached: few distinct values)."""
        if value.isascii():
            return value
        found = self._headers.get(value)
        if found is None:
            found = self._headers[value] = Header(value, "utf-8").encode(linesep="\r\n")
        return found

    def _raw(
        self,
        from_name: str,
        from_addr: str,
        to_addr: str,
        subject: str,
        when: datetime,
        mid: str,
        parent: str | None,
        references: list[str],
        text: str,
    ) -> bytes:
        head, sep, tag = subject.rpartition(" [#")
        encoded = (
            f"{self._header(head)} [#{tag}" if sep and not head.isascii() else self._header(subject)
        )
        name = self._header(from_name)
        if name.isascii() and name == from_name:
            name = '"' + from_name.replace('"', "") + '"'
        lines = [
            f"From: {name} <{from_addr}>",
            f"To: {to_addr}",
            f"Subject: {encoded}",
            f"Date: {format_datetime(when)}",
            f"Message-ID: <{mid}>",
        ]
        if parent:
            lines.append(f"In-Reply-To: <{parent}>")
            lines.append("References: " + "\r\n ".join(f"<{r}>" for r in references))
        lines += [
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: 8bit",
        ]
        body = text.replace("\n", "\r\n")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8")


def _quote(text: str, lines: int = 4) -> str:
    quoted = [f"> {line}" if line else ">" for line in text.splitlines()[:lines]]
    return "\n" + "\n".join(quoted) + "\n"


def _event(
    rid: int,
    at: datetime,
    actor: str,
    kind: str,
    reason: str | None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "request_id": rid,
        "at": at,
        "actor": actor,
        "kind": kind,
        "reason": reason,
        "detail": json.dumps(detail, ensure_ascii=False) if detail else None,
    }


def _weighted(rng: random.Random, choices: list[tuple[Any, int]]) -> Any:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def build(
    path: Path, requests: int, messages: int, customers: int, seed: int, days: int = 730
) -> dict[str, Any]:
    started = time.perf_counter()
    path.mkdir(parents=True, exist_ok=True)
    config = path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    desk = open_desk(load_settings(config))  # the schema from the migrations, system templates
    for login, name in AGENTS:
        desk.ensure_agent(login, name=name, email=DESK_ADDRESS)
    builder = Builder(requests, messages, customers, seed, days)
    _progress(f"planned {requests:,} requests, {messages:,} messages", started)
    step = max(1, min(5000, requests // 20))
    db = desk.db
    with db.bulk():
        with db.write() as conn:
            insert_rows(conn, "customer", builder.customer_rows())
        for lo in range(0, requests, step):
            hi = min(requests, lo + step)
            rows = builder.chunk(lo, hi)
            with db.write() as conn:
                for table in (
                    "request",
                    "request_tag",
                    "message",
                    "message_raw",
                    "event",
                    "rating",
                ):
                    insert_rows(conn, table, rows[table])
            _progress(f"requests {hi:,}/{requests:,}, messages {builder.message_pk:,}", started)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        counts = {
            table: conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar()
            for table in (
                "customer",
                "request",
                "message",
                "message_raw",
                "request_tag",
                "event",
                "rating",
            )
        }
        stack = conn.exec_driver_sql(
            "SELECT count(*) FROM request WHERE status IN ('new', 'open')"
        ).scalar()
    desk.close_database()
    seconds = time.perf_counter() - started
    db_bytes = sum(p.stat().st_size for p in path.glob("desk.db*"))
    return {
        "what": "bigdesk",
        "path": str(path),
        **counts,
        "stack": stack,
        "seconds": round(seconds, 1),
        "messages_per_s": round(messages / seconds),
        "db_mb": round(db_bytes / 1e6),
    }


def _progress(what: str, started: float) -> None:
    sys.stderr.write(f"{time.perf_counter() - started:7.1f} s  {what}\n")
    sys.stderr.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--requests", type=int, default=None, help="default: 200,000")
    parser.add_argument("--messages", type=int, default=None, help="default: 1,000,000")
    parser.add_argument("--days", type=int, default=730, help="the period, ending now")
    parser.add_argument(
        "--per-day", type=int, default=None, help="requests a day (sets --requests)"
    )
    parser.add_argument("--customers", type=int, default=None, help="default: ~40,000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="replace an existing desk.db")
    args = parser.parse_args()
    existing = list(args.path.glob("desk.db*"))
    if existing:
        if not args.force:
            raise SystemExit(f"{args.path / 'desk.db'} exists; use --force to replace it")
        for p in existing:
            p.unlink()
    requests = args.requests or (args.per_day * args.days if args.per_day else 200_000)
    messages = args.messages or (
        1_000_000 if args.requests is None and not args.per_day else 4 * requests
    )
    customers = args.customers or max(10, min(40_000, requests // 5))
    report = build(args.path, requests, messages, customers, args.seed, args.days)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
