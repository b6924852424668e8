"""`supportdesk stats`: how the team is doing over a period (README, "Stats")."""

from __future__ import annotations

import csv
import re
import sys
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Annotated, Any

import typer

from supportdesk.cli.app import app, state
from supportdesk.cli.output import emit_json, print_table, stdout
from supportdesk.domain.stats import BACKLOG_BUCKETS, GROUPINGS, duration, percent, percent_share

if TYPE_CHECKING:
    from supportdesk.domain.stats import Figures, ReviewFigures, ReviewSeries, StatsReport

_RELATIVE = re.compile(r"^(\d{1,4})([dwm])$")
_FORMATS = "a date (2026-12-01) or a count of days, weeks or months back (7d, 4w, 12m)"


def parse_moment(text: str, zone: tzinfo, now: datetime, option: str) -> datetime:
    """--since/--until: a date is that day's local midnight; `7d` the local midnight that
    starts the last 7 days (today included), `4w` the Monday that starts the last 4 ISO weeks
    (this one included), `12m` the first of the month that starts the last 12 months."""
    value = text.strip().lower()
    today = now.astimezone(zone).date()
    match = _RELATIVE.match(value)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        if count < 1:
            raise typer.BadParameter(f"{text!r}: count at least 1 ({_FORMATS})", param_hint=option)
        if unit == "d":
            day = today - timedelta(days=count - 1)
        elif unit == "w":
            day = today - timedelta(days=today.weekday(), weeks=count - 1)
        else:
            months = today.year * 12 + today.month - 1 - (count - 1)
            day = date(months // 12, months % 12 + 1, 1)
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not {_FORMATS}", param_hint=option) from None
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _count(value: int | None) -> object:
    return "" if value is None else value


def _row(f: Figures) -> list[object]:
    due = f.sla_met + f.sla_missed
    return [
        f.key,
        _count(f.new),
        _count(f.received),
        f.answered,
        f.first_answers,
        duration(f.first_answer_median, ""),
        duration(f.first_answer_p90, ""),
        f"{f.sla_met}/{due}" if due else "",
        percent(f.score, ""),
        percent_share(f.csat, ""),
    ]


def _review_row(f: ReviewFigures) -> list[object]:
    quality = "" if f.quality_score is None else f"{f.quality_score:.1f}"
    return [
        f.key,
        f.reviewed,
        f.returned,
        percent_share(f.returned_share, ""),
        f.edited,
        f.scored,
        quality,
    ]


_REVIEW_COLUMNS = ["reviewed", "returned", "returned %", "edited", "scored", "quality"]


def _print_reviews(key: str, rows: list[ReviewFigures]) -> None:
    print_table([key, *_REVIEW_COLUMNS], [_review_row(f) for f in rows])


def _print_series(series: ReviewSeries) -> None:
    _print_reviews(series.by, [*series.groups, series.total])
    from rich.text import Text

    stdout.print(
        Text(
            f"{series.agent}'s reviews, {series.since.isoformat()} to "
            f"{series.until.isoformat()} in {series.timezone}: trainee letters decided, "
            "returned, approved with edits; quality checks scored and their mean score (1-5)."
        )
    )


def _print_report(report: StatsReport) -> None:
    label = {"day": "day", "week": "week", "agent": "agent", "tag": "tag", "language": "language"}
    columns = [
        label[report.by],
        "new",
        "received",
        "answered",
        "first answers",
        "median",
        "p90",
        "SLA",
        "score",
        "CSAT",
    ]
    rows = [_row(g) for g in report.groups] + [_row(report.total)]
    print_table(columns, rows)
    reviews = [f.review for f in [*report.groups, report.total] if f.review is not None]
    if reviews:
        _print_reviews("agent", reviews)
    backlog = report.backlog
    ages = ", ".join(f"{name} {backlog.by_age.get(name, 0)}" for name in BACKLOG_BUCKETS)
    oldest = f", oldest {duration(backlog.oldest_seconds, '')}" if backlog.oldest_seconds else ""
    from rich.text import Text

    stdout.print(Text(f"Backlog now: {backlog.on_stack} on the stack ({ages}{oldest})."))
    stdout.print(
        Text(
            f"Period {report.since.isoformat()} to {report.until.isoformat()} in "
            f"{report.timezone}; SLA: first answer within "
            f"{duration(report.sla_target_seconds)}; score: % within it."
        )
    )


def _csv_rows(report: StatsReport) -> tuple[list[str], list[dict[str, Any]]]:
    """The header and one row per group plus the total; closed reasons as closed_<reason>."""
    figures = [*report.groups, report.total]
    reasons = sorted({r for f in figures for r in (f.closed or {})})
    rows: list[dict[str, Any]] = []
    header: list[str] = []
    for f in figures:
        data = f.as_dict()
        closed = data.pop("closed")
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat[key] = "" if value is None else value
            if key == "sla_missed":  # where "closed" stood
                for reason in reasons:
                    flat[f"closed_{reason}"] = "" if closed is None else closed.get(reason, 0)
        rows.append(flat)
        header = list(flat)
    return header, rows


@app.command()
def stats(
    since: Annotated[
        str | None,
        typer.Option(help="Start: a date (local midnight) or 7d, 4w, 12m back. Default: 7d."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="End, not included: a date (its local midnight) or 7d, 4w, 12m."),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="day, week, agent, tag or language.")] = "day",
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent",
            metavar="LOGIN",
            help="With --by day or week: only this agent's review figures per period (letters "
            "reviewed, returned, edited approvals, quality checks scored, mean score).",
        ),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV: one row per group, then total.")] = (
        False
    ),
) -> None:
    """How the team is doing: requests, answers, first-answer times, the SLA share and the
    daily speed score, closes, follow-ups, ratings, and the backlog now. By agent also the
    review figures; --agent LOGIN --by week: that agent's review figures per week."""
    if by not in GROUPINGS:
        raise typer.BadParameter(
            f"{by!r}: expected one of {', '.join(GROUPINGS)}", param_hint="--by"
        )
    if json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both")
    desk = state.desk()
    zone = state.settings().stats_zone
    now = desk.clock.now()
    start = parse_moment(since or "7d", zone, now, "--since")
    end = now if until is None else parse_moment(until, zone, now, "--until")
    if end <= start:
        raise typer.BadParameter(
            f"the period is empty: --until ({end.astimezone(zone):%Y-%m-%d %H:%M}) must be after"
            f" --since ({start.astimezone(zone):%Y-%m-%d %H:%M})",
            param_hint="--until",
        )
    if agent is not None:
        if by not in ("day", "week"):
            raise typer.BadParameter("--agent goes with --by day or week", param_hint="--agent")
        if as_csv:
            raise typer.BadParameter("--agent gives a table or --json, not --csv")
        series = desk.review_series(start, end, by, agent)
        if json:
            emit_json(series.as_dict())
        else:
            _print_series(series)
        return
    report = desk.stats(start, end, by)
    if json:
        emit_json(report.as_dict())
    elif as_csv:
        header, rows = _csv_rows(report)
        writer = csv.DictWriter(sys.stdout, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print_report(report)
