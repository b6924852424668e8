"""How the team is doing over a period: the figures of `supportdesk stats`, the console's stats
screen and the daily report (domain.stats says what each figure counts)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from supportdesk.desk.context import DeskContext
from supportdesk.domain.enums import CLOSE_REASONS
from supportdesk.domain.stats import (
    BACKLOG_BUCKETS,
    GROUPINGS,
    Backlog,
    Figures,
    RatingComment,
    ReviewFigures,
    ReviewSeries,
    StatsReport,
)
from supportdesk.errors import SupportDeskError
from supportdesk.store import figures as sql
from supportdesk.store import review_figures
from supportdesk.store.requests import ON_STACK

WINDOWS_PER_QUERY = 1000
BACKLOG_AGES = (timedelta(hours=1), timedelta(hours=4), timedelta(hours=24), timedelta(days=3))
"""The upper ages of BACKLOG_BUCKETS but the last."""


class StatsService:
    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def stats(self, since: datetime, until: datetime, by: str = "day") -> StatsReport:
        """The figures of [since, until) grouped `by` one of domain.stats.GROUPINGS; days and
        weeks in Settings.stats_zone."""
        if by not in GROUPINGS:
            raise SupportDeskError(
                f"cannot group stats by {by!r}: use one of {', '.join(GROUPINGS)}"
            )
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("since and until must be aware datetimes")
        if until <= since:
            raise SupportDeskError("the stats period is empty: --until must be after --since")
        settings = self.ctx.settings
        zone = settings.stats_zone
        now = self.ctx.now()
        with self.ctx.db.read() as conn:
            days = days_of(since, until, zone)
            windows = [
                (i, max(since, local_midnight(day, zone)), min(until, local_midnight(nxt, zone)))
                for i, (day, nxt) in enumerate((d, d + timedelta(days=1)) for d in days)
            ]
            total = _Acc()
            if by in ("day", "week"):
                # by day: weeks and the total are days added up
                per_day = _collect_windows(conn, windows, now)
                for acc in per_day.values():
                    total.add(acc)
                label = _day_label if by == "day" else _week_label
                groups: dict[str, _Acc] = {label(d): _Acc() for d in days}
                for i, acc in per_day.items():
                    groups[label(days[i])].add(acc)
                figures = [acc.figures(key) for key, acc in groups.items()]
            else:
                total, found = _collect_groups(conn, since, until, now, by)
                reviews = _reviews(conn, since, until, None, str) if by == "agent" else {}
                for key in reviews:
                    found.setdefault(key, _Acc())  # an agent with review figures only
                figures = [
                    found[key].figures(str(key), per_agent=by == "agent")
                    for key in sorted(found, key=str)
                ]
                if by == "agent":
                    for f in figures:
                        f.review = reviews.get(f.key, ReviewFigures(f.key))
            backlog = _backlog(conn, now)
            comments = [
                RatingComment(number, at, score, good, comment, agent)
                for number, at, score, good, comment, agent in sql.latest_comments(
                    conn, since, until
                )
            ]
        totals = total.figures("total")
        if by == "agent":
            totals.review = ReviewFigures("total")
            for f in figures:
                if f.review is not None:
                    totals.review.add(f.review)
        return StatsReport(
            since=since,
            until=until,
            by=by,
            timezone=str(zone),
            sla_target_seconds=settings.sla.first_response.total_seconds(),
            groups=figures,
            total=totals,
            backlog=backlog,
            comments=comments,
            generated_at=now,
        )

    def review_series(self, since: datetime, until: datetime, by: str, agent: str) -> ReviewSeries:
        """`agent`'s review figures per day or week of [since, until) (Settings.stats_zone):
        letters reviewed, returned, edited approvals, quality checks scored, mean score."""
        if by not in ("day", "week"):
            raise SupportDeskError(f"an agent's review figures go by day or week, not {by!r}")
        if until <= since:
            raise SupportDeskError("the stats period is empty: --until must be after --since")
        zone = self.ctx.settings.stats_zone
        label = _day_label if by == "day" else _week_label

        def key(at: datetime) -> str:
            return label(at.astimezone(zone).date())

        with self.ctx.db.read() as conn:
            found = _reviews(conn, since, until, agent, key)
        groups = {label(d): ReviewFigures(label(d)) for d in days_of(since, until, zone)}
        total = ReviewFigures("total")
        for name, figures in found.items():
            groups[name].add(figures)
            total.add(figures)
        return ReviewSeries(agent, since, until, by, str(zone), list(groups.values()), total)


def _reviews(
    conn: Any, since: datetime, until: datetime, agent: str | None, key: Any
) -> dict[str, ReviewFigures]:
    """Review figures of [since, until) by `key(agent)` (per agent) or `key(when)` (per day
    or week of `agent`'s)."""
    found: dict[str, ReviewFigures] = {}

    def of(login: str, at: datetime) -> ReviewFigures:
        name = key(login) if agent is None else key(at)
        return found.setdefault(name, ReviewFigures(name))

    for login, at, state, edited in review_figures.decided_letters(conn, since, until, agent):
        figures = of(login, at)
        figures.reviewed += 1
        figures.returned += state == "returned"
        figures.edited += state == "approved" and edited
    for login, at, score in review_figures.scored_checks(conn, since, until, agent):
        figures = of(login, at)
        figures.scored += 1
        figures.score_sum += score
    return found


@dataclass(slots=True)
class _Acc:
    """The figures of one group while they are added up (days fold into weeks and totals)."""

    received: int = 0
    new: int = 0
    answered: int = 0
    waits: list[float] = field(default_factory=list)
    sla_met: int = 0
    sla_missed: int = 0
    closed: dict[str, int] = field(default_factory=dict)
    reopened: int = 0
    follow_ups: int = 0
    ratings: int = 0
    good: int = 0
    politeness: list[int] = field(default_factory=lambda: [0, 0])
    proficiency: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, other: _Acc) -> None:
        self.received += other.received
        self.new += other.new
        self.answered += other.answered
        self.waits += other.waits
        self.sla_met += other.sla_met
        self.sla_missed += other.sla_missed
        for reason, n in other.closed.items():
            self.closed[reason] = self.closed.get(reason, 0) + n
        self.reopened += other.reopened
        self.follow_ups += other.follow_ups
        self.ratings += other.ratings
        self.good += other.good
        for mine, theirs in (
            (self.politeness, other.politeness),
            (self.proficiency, other.proficiency),
        ):
            mine[0] += theirs[0]
            mine[1] += theirs[1]

    def figures(self, key: str, *, per_agent: bool = False) -> Figures:
        waits = sorted(self.waits)
        closed = dict(sorted(self.closed.items()))
        return Figures(
            key=key,
            received=None if per_agent else self.received,
            new=None if per_agent else self.new,
            answered=self.answered,
            first_answers=len(waits),
            first_answer_median=_seconds(median(waits)),
            first_answer_p90=_seconds(percentile(waits, 0.9)),
            sla_met=self.sla_met,
            sla_missed=self.sla_missed,
            closed=None if per_agent else closed,
            reopened=None if per_agent else self.reopened,
            follow_ups=None if per_agent else self.follow_ups,
            auto_closes=None if per_agent else closed.get("no_reply", 0),
            ratings=self.ratings,
            good_ratings=self.good,
            politeness=_mean(self.politeness),
            proficiency=_mean(self.proficiency),
        )


def _seconds(value: float | None) -> float | None:
    """A duration to the millisecond (SQLite's julianday differences carry float noise)."""
    return None if value is None else max(0.0, round(float(value), 3))


def _mean(pair: list[int]) -> float | None:
    total, n = pair
    return total / n if n else None


def median(ordered: list[float]) -> float | None:
    """The median of sorted values (the mean of the middle two for an even count)."""
    n = len(ordered)
    if not n:
        return None
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(ordered: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values: the smallest value at least `share` of
    them are not above (the 90th percentile of 10 waits is the 9th shortest)."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _collect_windows(conn: Any, windows: list[sql.Window], now: datetime) -> dict[int, _Acc]:
    """The figures per window of time (a day), by its key; WINDOWS_PER_QUERY at a time (three
    bound parameters each: SQLite takes 32,766 in one statement)."""
    accs = {key: _Acc() for key, _, _ in windows}
    for start in range(0, len(windows), WINDOWS_PER_QUERY):
        part = windows[start : start + WINDOWS_PER_QUERY]
        _add(
            accs,
            sql.window_arrivals(conn, part, now),
            sql.window_events(conn, part, CLOSE_REASONS),
            sql.window_received(conn, part),
            sql.window_ratings(conn, part),
        )
    return accs


def _collect_groups(
    conn: Any, since: datetime, until: datetime, now: datetime, by: str
) -> tuple[_Acc, dict[Any, _Acc]]:
    """The total of the period, and the figures per agent, tag or language that has any.
    By agent, the total's requests and answers are the agents' added up (with the requests
    no agent answered first), not counted twice."""
    agent = by == "agent"
    arrivals = sql.arrivals(conn, since, until, now, by)
    events = sql.event_counts(conn, since, until, by, CLOSE_REASONS)
    accs: dict[Any, _Acc] = {}
    _add(
        accs,
        arrivals,
        events,
        [] if agent else sql.received_counts(conn, since, until, by),
        sql.rating_counts(conn, since, until, by),
        new=not agent,
    )
    whole = [(0, since, until)]  # the period as one window
    if not agent:
        return _collect_windows(conn, whole, now)[0], accs
    total = _Acc()
    _add(
        {0: total},
        [(0, n, met, missed, waits) for _, n, met, missed, waits in arrivals],
        [
            *((0, kind, reason, n) for _, kind, reason, n in events),
            *sql.window_events(conn, whole, CLOSE_REASONS, answers=False),
        ],
        sql.window_received(conn, whole),
        sql.window_ratings(conn, whole),
    )
    accs.pop(None, None)  # requests no agent answered first
    return total, accs


def _add(
    accs: dict[Any, _Acc],
    arrivals: Iterable[tuple[Any, int, int, int, list[float]]],
    events: Iterable[tuple[Any, str, str | None, int]],
    received: Iterable[tuple[Any, int]],
    ratings: Iterable[tuple[Any, int, int, int, int, int, int]],
    *,
    new: bool = True,
) -> None:
    def acc(key: Any) -> _Acc:
        found = accs.get(key)
        if found is None:
            found = accs[key] = _Acc()
        return found

    for key, n, met, missed, waits in arrivals:
        a = acc(key)
        if new:
            a.new += n
        a.waits += waits
        a.sla_met += met
        a.sla_missed += missed
    for key, kind, reason, n in events:
        a = acc(key)
        if kind in sql.ANSWER_KINDS:
            a.answered += n
        elif kind == "close":
            a.closed[reason or "other"] = a.closed.get(reason or "other", 0) + n
        elif reason == "reopened":
            a.reopened += n
        elif reason == "follow_up":
            a.follow_ups += n
    for key, n in received:
        acc(key).received += n
    for key, n, good, ps, pn, qs, qn in ratings:
        a = acc(key)
        a.ratings += n
        a.good += good
        a.politeness[0] += ps
        a.politeness[1] += pn
        a.proficiency[0] += qs
        a.proficiency[1] += qn


def _backlog(conn: Any, now: datetime) -> Backlog:
    on_stack, within, oldest = sql.backlog(conn, now, [now - age for age in BACKLOG_AGES], ON_STACK)
    counts = [*within, on_stack]
    by_age = {
        name: counts[i] - (counts[i - 1] if i else 0) for i, name in enumerate(BACKLOG_BUCKETS)
    }
    waited = None if oldest is None else max(0.0, (now - oldest).total_seconds())
    return Backlog(on_stack=on_stack, by_age=by_age, oldest_seconds=waited)


def _day_label(day: date) -> str:
    return day.isoformat()


def _week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def days_of(since: datetime, until: datetime, zone: tzinfo) -> list[date]:
    """Every local day [since, until) touches, oldest first."""
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The start of a local day, aware (UTC)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
