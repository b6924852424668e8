"""Issue 19 point 4: a share of sent answers (`[review] sample`) goes to the quality queue,
drawn by a stable hash of the Message-ID; a reviewer (an admin or a mentor) scores each once,
and the agent sees the score, the rule and the comment."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.desk.quality import drawn
from supportdesk.errors import SupportDeskError
from tests.fixtures import drop_into_maildir, make_desk, run_cli
from tests.mailfactory import make_mail


def _desk(tmp_path: Path, clock: FrozenClock, share: float | str, count: int) -> Desk:
    desk = make_desk(tmp_path, clock, {"review": {"sample": share}})
    desk.ensure_agent("boss", role="admin")
    desk.ensure_agent("mia")
    desk.ensure_agent("tom")
    desk.set_training("tom", True, "mia")
    drop_into_maildir(
        tmp_path,
        *(make_mail(sender=f"c{i}@example.org", subject=f"Question {i}") for i in range(count)),
    )
    desk.fetch()
    return desk


def _answer_all(desk: Desk, count: int, agent: str = "anna") -> list[str]:
    return [desk.reply(n, f"Answer {n}.", agent) for n in range(1, count + 1)]


def test_the_draw_is_a_stable_share_of_message_ids() -> None:
    ids = [f"<{i}.reply@example.com>" for i in range(4000)]
    for share in (0.05, 0.5):
        picked = [m for m in ids if drawn(m, share)]
        assert abs(len(picked) / len(ids) - share) < 0.03
        assert picked == [m for m in ids if drawn(m, share)]  # the same answers every run
    assert not any(drawn(m, 0) for m in ids)
    assert all(drawn(m, 1) for m in ids)


@pytest.mark.parametrize("share", [0, 1, 0.5])
def test_sent_answers_are_sampled_by_their_message_id(
    tmp_path: Path, clock: FrozenClock, share: float
) -> None:
    desk = _desk(tmp_path, clock, share, 30)
    sent = _answer_all(desk, 30)
    checks = desk.quality.queue()
    sampled = {desk.request(c.number).messages[-1].message_id for c in checks}
    expected = {m for m in sent if drawn(m, share)}
    assert sampled == expected  # automatic acknowledgements are never sampled
    assert [c.agent for c in checks] == ["anna"] * len(expected)
    if share == 0.5:
        assert 8 <= len(expected) <= 22
    else:
        assert len(expected) == 30 * share
    assert [c.number for c in checks] == sorted(c.number for c in checks)  # oldest first


def test_a_trainees_approved_letter_is_not_sampled(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock, "100%", 2)
    held = desk.reply(1, "Please unplug it.", "tom")
    desk.reviews.approve(held.review_id, "mia")  # type: ignore[attr-defined]
    desk.reply(2, "Done.", "mia")
    assert [(c.number, c.agent) for c in desk.quality.queue()] == [(2, "mia")]


def test_a_check_is_scored_once_by_a_reviewer(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock, 1, 2)
    _answer_all(desk, 2, "mia")
    first, second = desk.quality.queue()

    assert desk.quality.queue("anna") == []  # neither an admin nor a mentor
    assert [c.id for c in desk.quality.queue("boss")] == [first.id, second.id]
    assert desk.quality.queue("mia") == []  # a mentor, but these are her own answers
    with pytest.raises(SupportDeskError, match="own answers"):
        desk.quality.score(first.id, "mia", 5, None, "")
    with pytest.raises(SupportDeskError, match="only an admin or a mentor"):
        desk.quality.score(first.id, "anna", 5, None, "")
    with pytest.raises(SupportDeskError, match="comment is required"):
        desk.quality.score(first.id, "boss", 3, "greeting", " ")

    done = desk.quality.score(first.id, "boss", 3, "greeting", "Say hello first.")
    assert (done.state, done.score, done.rule, done.reviewer) == ("scored", 3, "greeting", "boss")
    with pytest.raises(SupportDeskError, match="already scored by boss"):
        desk.quality.score(first.id, "boss", 4, None, "again")
    assert desk.quality.pending_count("boss") == 1
    mine = desk.quality.checks(agent="mia", states=("scored",))
    assert [(c.score, c.comment) for c in mine] == [(3, "Say hello first.")]
    events = [e for e in desk.request(first.number).events if e["kind"] == "quality_scored"]
    assert [(e["actor"], e["detail"]["score"], e["detail"]["rule"]) for e in events] == [
        ("boss", 3, "greeting")
    ]


def _at_once(*calls: Callable[[], object]) -> list[BaseException | None]:
    start = threading.Barrier(len(calls))
    outcome: list[BaseException | None] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        start.wait(timeout=30)
        try:
            call()
        except SupportDeskError as exc:
            outcome[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


@pytest.mark.slow  # two desks racing
def test_two_reviewers_scoring_at_once_score_once(tmp_path: Path, clock: FrozenClock) -> None:
    first = _desk(tmp_path, clock, 1, 4)
    first.ensure_agent("root", role="admin")
    _answer_all(first, 4)
    second = make_desk(tmp_path, clock, {"review": {"sample": 1}})  # another console
    try:
        for check in first.quality.queue():
            outcome = _at_once(
                lambda c=check.id: first.quality.score(c, "boss", 4, "tone", "Warmer."),
                lambda c=check.id: second.quality.score(c, "root", 2, "facts", "Wrong."),
            )
            errors = [str(e) for e in outcome if e is not None]
            assert len(errors) == 1 and "\n" not in errors[0]
            final = first.quality.get(check.id)
            assert errors[0] == f"check {check.id} was already scored by {final.reviewer}"
            scored = [
                e for e in first.request(check.number).events if e["kind"] == "quality_scored"
            ]
            assert [e["actor"] for e in scored] == [final.reviewer]
        assert first.quality.pending_count() == 0
    finally:
        second.close_database()
        first.close_database()


def test_the_cli_lists_scores_and_shows_the_agent_their_scores(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk(tmp_path, clock, 1, 2)
    _answer_all(desk, 2)
    desk.close_database()

    listed = run_cli("--agent", "boss", "reviews", "quality", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    checks = json.loads(listed.stdout)
    assert [(c["request"], c["agent"], c["state"]) for c in checks] == [
        (1, "anna", "pending"),
        (2, "anna", "pending"),
    ]
    nothing = run_cli("reviews", "quality", cwd=tmp_path)  # anna scores nobody
    assert nothing.returncode == 0 and "Nothing to score" in nothing.stderr

    check = str(checks[0]["id"])
    usage = run_cli("--agent", "boss", "reviews", "score", check, "2", cwd=tmp_path)
    assert usage.returncode == 2 and "--comment" in usage.stderr
    own = run_cli("reviews", "score", check, "5", cwd=tmp_path)
    assert own.returncode == 1 and own.stderr.count("\n") == 1
    done = run_cli(
        "--agent", "boss", "reviews", "score", check, "2",
        "--rule", "facts", "--comment", "[bold]Check the manual[/bold]", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == 2
    again = run_cli(
        "--agent", "boss", "reviews", "score", check, "4", "--comment", "x", cwd=tmp_path
    )
    assert again.returncode == 1
    assert again.stderr.strip() == f"supportdesk: check {check} was already scored by boss"

    mine = run_cli("reviews", "quality", "--agent", "me", cwd=tmp_path)
    assert mine.returncode == 0, mine.stderr
    assert "facts" in mine.stdout and "[bold]Check the manual[/bold]" in mine.stdout
    assert "boss" in mine.stdout
    others = run_cli("--agent", "tom", "reviews", "quality", "--agent", "anna", cwd=tmp_path)
    assert others.returncode == 1 and "only an admin or a mentor" in others.stderr
