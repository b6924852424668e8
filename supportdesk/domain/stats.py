"""How the team is doing: the figures `supportdesk stats`, the console's stats screen (f4) and
the daily report show, as plain records. Every figure is computed from what is stored (the
requests, their messages, events and ratings), never from counters that could drift.

Where a figure is counted (README, "Stats"):
- by the request's arrival (`created_at`): new, first answers, first-answer times, the SLA
  share and the speed score;
- by when it happened: received (customer messages), answered (replies and reminders sent),
  closed, reopened, follow-ups, auto-closes and ratings.

The daily speed score of a day is the share of the requests that arrived that day whose first
answer came within the SLA (`sla.first_response`, business hours respected: first answer at or
before the request's due time). A request still unanswered counts as missed once its due time
has passed and not at all before, so a day's score is final once its last due time is past.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

GROUPINGS = ("day", "week", "agent", "tag", "language")
"""What `stats --by` can group by."""

BACKLOG_BUCKETS = ("<1h", "1-4h", "4-24h", "1-3d", ">3d")
"""The ages of the requests on the stack now, as the backlog shows them."""


@dataclass(slots=True)
class Figures:
    """The figures of one group (a day, a week, an agent, a tag, a language) or of the whole
    period (`key` "total"). A figure that does not apply to a grouping is None: per agent
    there is no "received"; per tag there are no ratings of an agent."""

    key: str
    """The day (2026-12-03), the ISO week (2026-W49), the agent's login, the tag, the
    language ("" when none is known), or "total"."""
    received: int | None = 0
    """Customer messages that arrived (automatic mail and imported history not counted)."""
    new: int | None = 0
    """Requests opened (imported history not counted)."""
    answered: int = 0
    """Answers sent by agents (replies and reminders)."""
    first_answers: int = 0
    """Requests (arrived in the group) that got their first answer."""
    first_answer_median: float | None = None
    """Seconds from arrival to the first answer, median (wall-clock time)."""
    first_answer_p90: float | None = None
    """Seconds from arrival to the first answer, 90th percentile."""
    sla_met: int = 0
    """Requests answered first at or before their due time."""
    sla_missed: int = 0
    """Requests answered first after their due time, or still unanswered past it."""
    closed: dict[str, int] | None = field(default_factory=dict)
    """Requests closed, by close reason."""
    reopened: int | None = 0
    """Closed requests the customer wrote to again."""
    follow_ups: int | None = 0
    """Silent requests that came back on the stack for a reminder."""
    auto_closes: int | None = 0
    """Requests closed by the desk after the last unanswered reminder (no_reply)."""
    ratings: int = 0
    good_ratings: int = 0
    politeness: float | None = None
    """Mean politeness score (1-5) of the ratings that gave one."""
    proficiency: float | None = None
    review: ReviewFigures | None = None
    """Per agent (and their total): trainee letters reviewed and quality scores."""

    @property
    def sla_share(self) -> float | None:
        """Share of first answers within the SLA (0..1); None when nothing was due yet."""
        due = self.sla_met + self.sla_missed
        return self.sla_met / due if due else None

    @property
    def score(self) -> float | None:
        """The speed score: the SLA share, as a percentage rounded to a whole number."""
        share = self.sla_share
        return None if share is None else round(share * 100)

    @property
    def csat(self) -> float | None:
        """Share of good ratings (0..1); None without ratings."""
        return self.good_ratings / self.ratings if self.ratings else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sla_share"] = self.sla_share
        data["score"] = self.score
        data["csat"] = self.csat
        data.pop("review")
        if self.review is not None:
            data.update(self.review.as_dict(keyed=False))
        return data


@dataclass(slots=True)
class ReviewFigures:
    """An agent's review figures over a day, a week or the period (README, "Stats"): their
    trainee letters decided by a mentor (counted when decided) and their sampled answers
    scored (counted when scored), so "is the trainee ready" is a number."""

    key: str
    """The day, the ISO week, the agent's login, or "total"."""
    reviewed: int = 0
    """Trainee letters decided (approved or returned)."""
    returned: int = 0
    """Of those, returned with a comment."""
    edited: int = 0
    """Of those, approved after the reviewer edited them."""
    scored: int = 0
    """Sampled answers scored in the quality review."""
    score_sum: int = 0

    @property
    def returned_share(self) -> float | None:
        """Returned letters as a share (0..1) of the decided ones; None without any."""
        return self.returned / self.reviewed if self.reviewed else None

    @property
    def quality_score(self) -> float | None:
        """The mean quality score (1-5) of the scored answers; None without any."""
        return round(self.score_sum / self.scored, 2) if self.scored else None

    def add(self, other: ReviewFigures) -> None:
        self.reviewed += other.reviewed
        self.returned += other.returned
        self.edited += other.edited
        self.scored += other.scored
        self.score_sum += other.score_sum

    def as_dict(self, keyed: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key} if keyed else {}
        data.update(
            letters_reviewed=self.reviewed,
            letters_returned=self.returned,
            returned_share=self.returned_share,
            edited_approvals=self.edited,
            quality_scored=self.scored,
            quality_score=self.quality_score,
        )
        return data


@dataclass(slots=True)
class ReviewSeries:
    """One agent's review figures per day or week of a period (`stats --agent`)."""

    agent: str
    since: datetime
    until: datetime
    by: str
    timezone: str
    groups: list[ReviewFigures]
    """Every day/week of the period, oldest first, also empty ones."""
    total: ReviewFigures

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "by": self.by,
            "timezone": self.timezone,
            "total": self.total.as_dict(),
            "groups": [g.as_dict() for g in self.groups],
        }


@dataclass(slots=True)
class RatingComment:
    """A rating with the customer's words, newest first on the stats screen."""

    request: int
    at: datetime | None
    score: int
    good: bool
    comment: str
    agent: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "at": self.at.isoformat() if self.at else None,
            "score": self.score,
            "good": self.good,
            "comment": self.comment,
            "agent": self.agent,
        }


@dataclass(slots=True)
class Backlog:
    """The requests on the stack now, by how long they have waited since they were pushed."""

    on_stack: int
    by_age: dict[str, int]
    """Counts under BACKLOG_BUCKETS, in that order."""
    oldest_seconds: float | None
    """How long the longest-waiting request on the stack has waited."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "on_stack": self.on_stack,
            "by_age": dict(self.by_age),
            "oldest_seconds": self.oldest_seconds,
        }


@dataclass(slots=True)
class StatsReport:
    since: datetime
    """The start of the period (inclusive, aware)."""
    until: datetime
    """The end of the period (exclusive, aware)."""
    by: str
    """One of GROUPINGS."""
    timezone: str
    """The zone days and weeks are counted in."""
    sla_target_seconds: float
    """sla.first_response, in seconds."""
    groups: list[Figures]
    """One per day/week of the period (every one, oldest first, also empty ones), or one per
    agent/tag/language that has figures (by name)."""
    total: Figures
    backlog: Backlog
    comments: list[RatingComment] = field(default_factory=list)
    """The latest ratings with a comment in the period, newest first (at most 10)."""
    generated_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "by": self.by,
            "timezone": self.timezone,
            "sla_target_seconds": self.sla_target_seconds,
            "generated_at": self.generated_at.isoformat() if self.generated_at else None,
            "total": self.total.as_dict(),
            "groups": [g.as_dict() for g in self.groups],
            "backlog": self.backlog.as_dict(),
            "comments": [c.as_dict() for c in self.comments],
        }


# -- how figures are written (console, CLI table, daily report) -----------------------------


def duration(seconds: float | None, none: str = "–") -> str:
    """A length of time as people say it: "45s", "14m", "3h 5m", "2d 4h"; `none` for None."""
    if seconds is None:
        return none
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        hours, minutes = divmod(s // 60, 60)
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(s // 3600, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def percent(score: float | None, none: str = "–") -> str:
    """A score (already a percentage) as "92%"; `none` when nothing was due."""
    return none if score is None else f"{score:.0f}%"


def percent_share(share: float | None, none: str = "–") -> str:
    """A share (0..1) as "96%"; `none` when there is none."""
    return none if share is None else f"{round(share * 100)}%"
