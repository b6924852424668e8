"""The daily report: each morning at `[stats] daily_report` (local time in the stats zone) the
process that holds the poller lease mails yesterday's figures to `[stats] report_to`, once.

Once: the day is claimed by inserting its `daily_report` row (the day is the key; whoever
inserts second sends nothing). A failed send is recorded on the row and tried again on later
rounds (with the outbox's backoff), at most MOST_TRIES times; the last error stays on the row
for `supportdesk db check`. The report is not a request's message: it is sent straight through
the outgoing transport and never enters the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from supportdesk.config import Settings
from supportdesk.desk.context import DeskContext
from supportdesk.domain.stats import Figures, StatsReport, duration, percent, percent_share
from supportdesk.store import reports

MOST_TRIES = 10
"""Tries before the report of a day is given up (its last error stays on the row)."""
RETRY_AT_MOST = timedelta(hours=1)
"""The longest wait between two tries (the outbox's backoff, capped: a report is for this
morning)."""
CRASH_HOLD = timedelta(minutes=10)
"""A claim with neither a send nor an error this old: its process died while sending."""

StatsCall = Callable[[datetime, datetime, str], StatsReport]


@dataclass(slots=True)
class ReportResult:
    """What a round did about the daily report."""

    day: str
    sent: bool
    error: str | None = None
    gave_up: bool = False


def report_day(settings: Settings, now: datetime) -> date | None:
    """The day whose report is due at `now` (yesterday, once the report time has come in
    the stats zone), or None: no report configured, or not yet time."""
    at = settings.stats.daily_report
    if not at or not settings.stats.report_to:
        return None
    local = now.astimezone(settings.stats_zone)
    hour, minute = (int(part) for part in at.split(":"))
    if local.time() < time(hour, minute):
        return None
    return local.date() - timedelta(days=1)


def today(settings: Settings, now: datetime) -> date:
    """The date at `now` in the stats zone."""
    return now.astimezone(settings.stats_zone).date()


def day_bounds(settings: Settings, day: date) -> tuple[datetime, datetime]:
    """The start of `day` and of the next one, in the stats zone (DST-aware)."""
    zone = settings.stats_zone
    return (
        datetime.combine(day, time(), zone),
        datetime.combine(day + timedelta(days=1), time(), zone),
    )


class DailyReporter:
    """The daily report of one process (the poller's): cheap on every round but the one that
    sends (before the time, no query; once the day is done, none until the next)."""

    def __init__(self, ctx: DeskContext, stats: StatsCall) -> None:
        self.ctx = ctx
        self.stats = stats
        self._done: str | None = None
        """The day already sent or given up: nothing more to do until the next one."""

    def run_if_due(self, holder: str) -> ReportResult | None:
        from supportdesk.desk.delivery import backoff  # mail's modules: only when due

        settings, now = self.ctx.settings, self.ctx.now()
        day = report_day(settings, now)
        if day is None or day.isoformat() == self._done:
            return None
        key = day.isoformat()
        with self.ctx.db.write() as conn:
            row = reports.get(conn, key)
            if row is None:
                mine = reports.claim(conn, key, holder, now)
                tries = 0
            elif row.sent_at is not None or row.tries >= MOST_TRIES:
                self._done = key
                return None
            else:
                wait = min(backoff(row.tries), RETRY_AT_MOST) if row.tries else CRASH_HOLD
                mine = row.claimed_at + wait <= now and reports.reclaim(conn, row, holder, now)
                tries = row.tries
        if not mine:
            return None  # another process has it (or the next try is not due yet)
        try:
            self._send(day)
        except Exception as exc:
            error = " ".join(str(exc).split()) or type(exc).__name__
            tries += 1
            with self.ctx.db.write() as conn:
                reports.mark_failed(conn, key, tries, MOST_TRIES, error)
            if tries >= MOST_TRIES:
                self._done = key
            return ReportResult(key, False, error, gave_up=tries >= MOST_TRIES)
        with self.ctx.db.write() as conn:
            reports.mark_sent(conn, key, self.ctx.now())
        self._done = key
        return ReportResult(key, True)

    def _send(self, day: date) -> None:
        from supportdesk.desk.delivery import make_transport
        from supportdesk.mail.compose import (
            Draft,
            compose,
            make_message_id,
            new_message_id_domain,
        )
        from supportdesk.mail.transport import Outgoing

        settings = self.ctx.settings
        transport = make_transport(settings)
        if transport is None:
            raise RuntimeError(
                "outgoing mail is off ([outgoing] kind = none): set it up to mail the report"
            )
        since, until = day_bounds(settings, day)
        subject, text = compose_report(
            settings, day, self.stats(since, until, "day"), self.stats(since, until, "agent")
        )
        address = settings.desk.address
        to = (settings.stats.report_to or "").strip()
        raw = compose(
            Draft(
                from_addr=address,
                from_name=settings.desk.name,
                to=[to],
                subject=subject,
                text=text,
                message_id=make_message_id(new_message_id_domain(address)),
                date=self.ctx.now(),
                auto_submitted=True,  # no out-of-office answers to it
            )
        )
        [result] = transport.deliver([Outgoing(key=day, sender=address, recipients=[to], raw=raw)])
        if not result.ok:
            raise RuntimeError(result.error or "the mail server did not take the report")


# -- the text ------------------------------------------------------------------------------


def compose_report(
    settings: Settings, day: date, team: StatsReport, agents: StatsReport
) -> tuple[str, str]:
    """The report's subject and plain text: yesterday's figures, the team's and each agent's,
    and the backlog as it is now."""
    total = team.total
    subject = (
        f"{settings.desk.name}, {day.day} {day.strftime('%b')}: speed {percent(total.score)}, "
        f"{count(total.new)} new, CSAT {percent_share(total.csat)}"
    )
    target = duration(team.sla_target_seconds)
    backlog = team.backlog
    lines = [
        f"{settings.desk.name}: {day.strftime('%A')} {day.day} {day.strftime('%B %Y')} "
        f"({team.timezone})",
        "",
        "Team",
        f"  New requests          {count(total.new)}",
        f"  Customer messages     {count(total.received)}",
        f"  Answered              {total.answered}",
        f"  First answers         {total.first_answers}",
        f"  Median first answer   {duration(total.first_answer_median)}",
        f"  Speed score           {percent(total.score)}  ({total.sla_met} of "
        f"{total.sla_met + total.sla_missed} requests answered within {target})",
        f"  CSAT                  {percent_share(total.csat)}  ({ratings(total.ratings)})",
        f"  Backlog now           {backlog.on_stack} on the stack"
        + (f", the oldest waiting {duration(backlog.oldest_seconds)}" if backlog.on_stack else ""),
        "",
    ]
    people = [g for g in agents.groups if g.key != "total"]
    if people:
        lines += ["Agents", _agent_row("agent", "answered", "first", "median", "speed", "CSAT")]
        lines += [_agent_line(g) for g in people]
        lines.append("")
    lines += [
        "Speed score: the share of the day's new requests whose first answer came within",
        f"the target ({target}, business hours respected); an unanswered one counts once late.",
        "Sent by SupportDesk ([stats] daily_report in config.toml).",
    ]
    return subject, "\n".join(lines) + "\n"


def _agent_row(*cells: str) -> str:
    name, *rest = cells
    return f"  {name[:16]:<16}" + "".join(f"{c:>10}" for c in rest)


def _agent_line(g: Figures) -> str:
    return _agent_row(
        g.key,
        str(g.answered),
        str(g.first_answers),
        duration(g.first_answer_median),
        percent(g.score),
        percent_share(g.csat),
    )


def ratings(n: int) -> str:
    return f"{n} rating" if n == 1 else f"{n} ratings"


def count(value: int | None) -> str:
    return "–" if value is None else str(value)
