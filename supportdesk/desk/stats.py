"""How the team is doing over a period: the figures of `supportdesk stats`, the console's stats
screen and the daily report (domain.stats says what each figure counts)."""

from __future__ import annotations

from datetime import datetime

from supportdesk.desk.context import DeskContext
from supportdesk.domain.stats import StatsReport


class StatsService:
    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def stats(self, since: datetime, until: datetime, by: str = "day") -> StatsReport:
        """The figures of [since, until) grouped `by` one of domain.stats.GROUPINGS; days and
        weeks in Settings.stats_zone."""
        raise NotImplementedError("being built (issue 17)")
