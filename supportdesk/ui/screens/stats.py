"""How the team is doing (f4): today, the last 30 days in sparklines, each agent, the backlog
by age, and CSAT with the customers' latest comments. Read in a thread worker; read again when
the data changes (the app's watch calls `reload`) or on `g`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Sparkline, Static

from supportdesk.desk.report import day_bounds, today
from supportdesk.desk.report import ratings as _ratings
from supportdesk.domain.stats import (
    BACKLOG_BUCKETS,
    Figures,
    StatsReport,
    duration,
    percent,
    percent_share,
)
from supportdesk.ui.keybar import KeyBar
from supportdesk.ui.keys import back_binding, refresh_binding
from supportdesk.ui.text import inert

if TYPE_CHECKING:
    from supportdesk.desk import Desk
    from supportdesk.ui.app import SupportDeskApp

DAYS = 30
"""The days the charts and the totals cover, today included."""
BAR_WIDTH = 30
"""The widest backlog bar, in cells."""


@dataclass(slots=True)
class StatsView:
    """What the screen shows, read in one go."""

    today: StatsReport
    days: StatsReport
    agents: StatsReport


def read_stats(desk: Desk) -> StatsView:
    """Today's figures, the last DAYS days by day and by agent."""
    settings = desk.settings
    day = today(settings, desk.clock.now())
    start, end = day_bounds(settings, day)
    since = day_bounds(settings, day - timedelta(days=DAYS - 1))[0]
    return StatsView(
        desk.stats(start, end, "day"),
        desk.stats(since, end, "day"),
        desk.stats(since, end, "agent"),
    )


def today_figures(desk: Desk) -> Figures:
    """The team's figures of today (in the stats zone) so far."""
    start, end = day_bounds(desk.settings, today(desk.settings, desk.clock.now()))
    return desk.stats(start, end, "day").total


def speed_line(figures: Figures) -> str:
    """ "Speed today 92% · median 14m" (the stack's line, and the stats screen's)."""
    return f"Speed today {percent(figures.score)} · median {duration(figures.first_answer_median)}"


class StatsScreen(Screen[None]):
    """The team's figures at a glance; escape goes back."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="stats.back"),
        refresh_binding("stats", show=True),
        back_binding("stats"),
    ]

    app: SupportDeskApp

    shown: StatsView | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✉")
        with VerticalScroll(id="stats-body"):
            yield Static(id="stats-today", classes="stats-block")
            yield Static("Requests per day, last 30 days", classes="stats-title")
            yield Sparkline([], id="spark-new", summary_function=max)
            yield Static("Speed score per day, last 30 days", classes="stats-title")
            yield Sparkline([], id="spark-score", summary_function=max)
            yield Static(id="stats-days", classes="stats-block")
            yield Static("Agents, last 30 days", classes="stats-title")
            yield DataTable(id="stats-agents", cursor_type="row", zebra_stripes=True)
            yield Static(id="stats-backlog", classes="stats-block")
            yield Static(id="stats-csat", classes="stats-block")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "Stats"
        table = self.query_one("#stats-agents", DataTable)
        for key, label in AGENT_COLUMNS:
            table.add_column(label, key=key)

    def on_screen_resume(self) -> None:
        self.reload()  # also the first load

    def reload(self) -> None:
        from supportdesk.ui.work import run_desk

        desk = self.app.desk
        run_desk(
            self,
            "Reading the stats",
            lambda: read_stats(desk),
            self._show,
            group="stats",
            supersede=True,
        )

    def _show(self, view: StatsView) -> None:
        self.shown = view
        day = view.today.total
        self.query_one("#stats-today", Static).update(_today_text(view.today, day))
        self.query_one("#spark-new", Sparkline).data = [float(g.new or 0) for g in view.days.groups]
        self.query_one("#spark-score", Sparkline).data = [
            float(g.score or 0) for g in view.days.groups
        ]
        self.query_one("#stats-days", Static).update(_days_text(view.days))
        table = self.query_one("#stats-agents", DataTable)
        table.clear()
        for g in view.agents.groups:
            table.add_row(
                inert(g.key),
                inert(str(g.answered)),
                inert(str(g.first_answers)),
                inert(duration(g.first_answer_median)),
                inert(percent(g.score)),
                inert(percent_share(g.csat)),
                key=g.key,
            )
        self.query_one("#stats-backlog", Static).update(_backlog_text(view.today))
        self.query_one("#stats-csat", Static).update(_csat_text(view.days))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.reload()


AGENT_COLUMNS = [
    ("agent", "agent"),
    ("answered", "answers"),
    ("first", "first answers"),
    ("median", "median"),
    ("score", "speed"),
    ("csat", "CSAT"),
]


def _today_text(report: StatsReport, day: Figures) -> Text:
    text = Text()
    text.append("Today", style="bold")
    text.append(f"   {speed_line(day)}\n")
    due = day.sla_met + day.sla_missed
    text.append(
        f"{_n(day.new)} new · {_n(day.received)} received · {day.answered} answered · "
        f"{day.first_answers} first answers · SLA {day.sla_met} of {due} within "
        f"{duration(report.sla_target_seconds)} · CSAT {percent_share(day.csat)}"
        f" ({_ratings(day.ratings)})"
    )
    return text


def _days_text(report: StatsReport) -> Text:
    t = report.total
    return inert(
        f"Last {DAYS} days: {_n(t.new)} new · {_n(t.received)} received · {t.answered} answered"
        f" · median first answer {duration(t.first_answer_median)}"
        f" (90%: {duration(t.first_answer_p90)}) · speed {percent(t.score)}"
        f" · CSAT {percent_share(t.csat)} ({_ratings(t.ratings)})"
    )


def _backlog_text(report: StatsReport) -> Text:
    backlog = report.backlog
    text = Text()
    text.append(f"Backlog now: {backlog.on_stack} on the stack", style="bold")
    if backlog.oldest_seconds is not None:
        text.append(f", the oldest waiting {duration(backlog.oldest_seconds)}")
    most = max(backlog.by_age.values(), default=0) or 1
    for bucket in BACKLOG_BUCKETS:
        count = backlog.by_age.get(bucket, 0)
        bar = "█" * (round(count / most * BAR_WIDTH) if count else 0)
        text.append(f"\n  {bucket:>6} {count:>5} ")
        text.append(bar, style="bold")
    return text


def _csat_text(report: StatsReport) -> Text:
    t = report.total
    text = Text()
    text.append(
        f"CSAT {percent_share(t.csat)}: {t.good_ratings} good of {_ratings(t.ratings)}",
        style="bold",
    )
    if not report.comments:
        text.append("\n  no comments yet", style="dim")
    for c in report.comments:
        when = c.at.strftime("%d %b %H:%M") if c.at else ""
        text.append(f"\n  #{c.request} {when} {c.score}{' good' if c.good else ''} ")
        text.append_text(inert(c.agent or "", "dim"))
        text.append("  ")
        text.append_text(inert(" ".join(c.comment.split())))  # the customer's words: never markup
    return text


def _n(value: int | None) -> str:
    return "–" if value is None else str(value)
