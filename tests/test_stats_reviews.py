"""Issue 19 point 4: the review figures per agent over time, so "is the trainee ready" is a
number: trainee letters reviewed, the share returned, edited approvals, quality checks scored
and their mean score, in `stats --by agent` and per week with `stats --agent LOGIN`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from tests.fixtures import drop_into_maildir, make_desk, run_cli
from tests.mailfactory import make_mail

SINCE, UNTIL = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC)


def _history(tmp_path: Path, clock: FrozenClock) -> Desk:
    """Week 2 (from 5 January): trainee tom writes 4 letters; mia approves 3 (one edited)
    and returns 1. Week 3: anna's 2 answers are sampled and scored 3 and 5."""
    desk = make_desk(tmp_path, clock, {"review": {"sample": 1}, "stats": {"timezone": "UTC"}})
    desk.ensure_agent("boss", role="admin")
    desk.ensure_agent("mia")
    desk.ensure_agent("tom")
    desk.set_training("tom", True, "mia")
    drop_into_maildir(
        tmp_path,
        *(make_mail(sender=f"c{i}@example.org", subject=f"Question {i}") for i in range(6)),
    )
    desk.fetch()
    held = [desk.reply(n, f"Letter {n}.", "tom") for n in range(1, 5)]
    clock.advance(timedelta(minutes=20))
    ids = [h.review_id for h in held]  # type: ignore[attr-defined]
    desk.reviews.approve(ids[0], "mia")
    desk.reviews.approve(ids[1], "mia", body="Letter 2, kinder.")
    desk.reviews.approve(ids[2], "mia")
    desk.reviews.return_letter(ids[3], "mia", "Answer the question.")
    clock.advance(timedelta(days=7))
    desk.reply(5, "Five.", "anna")
    desk.reply(6, "Six.", "anna")
    first, second = desk.quality.queue("boss")
    desk.quality.score(first.id, "boss", 3, "greeting", "Say hello.")
    desk.quality.score(second.id, "boss", 5, None, "")
    return desk


def test_the_figures_per_agent(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _history(tmp_path, clock)
    report = desk.stats(SINCE, UNTIL, "agent")
    reviews = {g.key: g.as_dict() for g in report.groups}
    tom, anna = reviews["tom"], reviews["anna"]
    assert (tom["letters_reviewed"], tom["letters_returned"], tom["edited_approvals"]) == (4, 1, 1)
    assert tom["returned_share"] == 0.25
    assert (tom["quality_scored"], tom["quality_score"]) == (0, None)  # reviewed, not sampled
    assert (anna["quality_scored"], anna["quality_score"], anna["letters_reviewed"]) == (2, 4.0, 0)
    total = report.total.as_dict()
    assert (total["letters_reviewed"], total["quality_scored"], total["quality_score"]) == (
        4,
        2,
        4.0,
    )
    assert "letters_reviewed" not in desk.stats(SINCE, UNTIL, "day").total.as_dict()


def test_an_agents_review_figures_per_week(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _history(tmp_path, clock)
    series = desk.review_series(SINCE, UNTIL, "week", "tom")
    weeks = {g.key: g for g in series.groups}
    assert list(weeks)[:3] == ["2026-W01", "2026-W02", "2026-W03"]
    assert (weeks["2026-W02"].reviewed, weeks["2026-W02"].returned_share) == (4, 0.25)
    assert weeks["2026-W03"].reviewed == 0
    anna = desk.review_series(SINCE, UNTIL, "week", "anna")
    assert [(g.key, g.scored, g.quality_score) for g in anna.groups if g.scored] == [
        ("2026-W03", 2, 4.0)
    ]


def test_the_stats_command_shows_them(tmp_path: Path, clock: FrozenClock) -> None:
    _history(tmp_path, clock).close_database()
    period = ("--since", "2026-01-01", "--until", "2026-01-31")

    by_agent = run_cli("stats", *period, "--by", "agent", "--json", cwd=tmp_path)
    assert by_agent.returncode == 0, by_agent.stderr
    groups = {g["key"]: g for g in json.loads(by_agent.stdout)["groups"]}
    assert groups["tom"]["returned_share"] == 0.25 and groups["anna"]["quality_score"] == 4.0

    table = run_cli("stats", *period, "--by", "agent", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    tom_row = [line for line in table.stdout.splitlines() if line.startswith("tom ")][-1]
    assert tom_row.split()[1:5] == ["4", "1", "25%", "1"]

    weekly = run_cli("stats", *period, "--by", "week", "--agent", "anna", "--json", cwd=tmp_path)
    assert weekly.returncode == 0, weekly.stderr
    data = json.loads(weekly.stdout)
    assert data["agent"] == "anna" and data["total"]["quality_score"] == 4.0
    week3 = next(g for g in data["groups"] if g["key"] == "2026-W03")
    assert (week3["quality_scored"], week3["quality_score"]) == (2, 4.0)

    daily = run_cli("stats", *period, "--by", "day", "--agent", "tom", cwd=tmp_path)
    assert daily.returncode == 0, daily.stderr
    assert "2026-01-05" in daily.stdout and "25%" in daily.stdout

    wrong = run_cli("stats", "--by", "agent", "--agent", "tom", cwd=tmp_path)
    assert wrong.returncode == 2 and "--by day or week" in wrong.stderr
