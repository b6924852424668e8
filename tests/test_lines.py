"""Lines, escalation and hand-back: each agent works a line (1: the first line, which talks
to customers; 2, 3 …: who takes what is escalated); a request starts on line 1 unless a rule
says otherwise, moves up with `escalate` and down with `handback`, each time with an internal
note and an event, and the customer is told nothing."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.errors import SupportDeskError
from tests.fixtures import add_agents, drop_into_maildir, make_desk, run_cli, write_config
from tests.mailfactory import make_mail


def _requests(desk: Desk, folder: Path, *subjects: str) -> None:
    drop_into_maildir(
        folder,
        *(make_mail(sender=f"c{i}@example.org", subject=s) for i, s in enumerate(subjects)),
    )
    desk.fetch()


def _numbers(records: list) -> list[int]:  # type: ignore[type-arg]
    return [r.number for r in records]


def _events(desk: Desk, number: int, kind: str) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in desk.request(number).events if e["kind"] == kind]


def _notes(desk: Desk, number: int) -> list[str]:
    return [m.text.strip() for m in desk.request(number).messages if m.direction == "note"]


def test_escalate_moves_a_request_to_the_next_lines_stack_with_a_note(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    desk.add_agent("sam", "Sam Second", line=2)
    _requests(desk, tmp_path, "Login broken", "Invoice question")
    assert [r.line for r in desk.stack()] == [1, 1]
    assert desk.agent_line("sam") == 2 and desk.agent_line("anna") == 1
    assert desk.agent_line("ghost") == 1  # not in the agents table: the first line

    queued = desk.outbox_counts()  # the acknowledgements of the two new requests
    assert desk.claim(1, "anna")
    clock.advance(timedelta(minutes=3))
    move = desk.escalate(1, "anna", "Needs a look at the auth logs")
    assert (move.moved, move.from_line, move.to_line) == (True, 1, 2)

    assert _numbers(desk.stack(line=1)) == [2]
    assert _numbers(desk.stack(line=2)) == [1]
    assert _numbers(desk.stack()) == [1, 2]  # no line filter: every line, pushed now on top
    request = desk.request(1).request
    assert (request.status, request.reason, request.line) == ("open", "escalated", 2)
    assert request.pushed_at == clock.now() and request.claimed_by is None
    assert _notes(desk, 1) == ["Needs a look at the auth logs"]
    [event] = _events(desk, 1, "escalate")
    assert event["actor"] == "anna" and event["reason"] == "escalated"
    assert event["detail"] == {
        "from_line": 1,
        "to_line": 2,
        "to_agent": None,
        "note": "Needs a look at the auth logs",
    }
    assert desk.outbox_counts() == queued  # the customer was told nothing

    # take next works the agent's own line
    assert desk.claim_next("sam").number == 1  # type: ignore[union-attr]
    assert desk.claim_next("anna").number == 2  # type: ignore[union-attr]

    # the second line hands it back: to the line it came from, nobody assigned
    desk.handback(1, "sam", "Fixed the account; please tell the customer")
    request = desk.request(1).request
    assert (request.line, request.reason, request.assignee) == (1, "handed_back", None)
    [event] = _events(desk, 1, "handback")
    assert event["actor"] == "sam"
    assert event["detail"]["from_line"] == 2 and event["detail"]["to_line"] == 1
    assert _notes(desk, 1)[-1] == "Fixed the account; please tell the customer"
    assert desk.outbox_counts() == queued


def test_escalate_to_a_line_or_an_agent_and_hand_back_where_it_came_from(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    desk.add_agent("dev", "Dee Developer", line=3)
    _requests(desk, tmp_path, "Crash on save")
    desk.escalate(1, "anna", "second line please")
    move = desk.escalate(1, "anna", "this is a bug in the code", to_agent="dev")
    assert (move.from_line, move.to_line, move.assignee) == (2, 3, "dev")
    request = desk.request(1).request
    assert (request.line, request.assignee) == (3, "dev")
    assert _events(desk, 1, "escalate")[-1]["detail"]["to_agent"] == "dev"

    desk.handback(1, "dev", "hot fix deployed")
    request = desk.request(1).request
    assert (request.line, request.assignee) == (2, None)  # where the last escalation came from

    desk.escalate(1, "anna", "straight to the developers", to_line=4)
    assert desk.request(1).request.line == 4

    with pytest.raises(SupportDeskError, match="needs a note"):
        desk.escalate(1, "anna", "   ")
    with pytest.raises(SupportDeskError, match="moves it up"):
        desk.escalate(1, "anna", "down?", to_line=2)
    with pytest.raises(SupportDeskError, match="no agent 'nobody'"):
        desk.escalate(1, "anna", "who?", to_agent="nobody")
    assert desk.request(1).request.line == 4
    fresh = _fresh(desk, tmp_path)
    with pytest.raises(SupportDeskError, match="line 1 already"):
        desk.handback(fresh, "anna", "nothing to hand back")


def _fresh(desk: Desk, folder: Path) -> int:
    drop_into_maildir(folder, make_mail(sender="new@example.org", subject="Fresh"))
    desk.fetch()
    return max(_numbers(desk.stack()))


def test_a_rule_sets_the_line_a_request_starts_on(tmp_path: Path, clock: FrozenClock) -> None:
    rules = {"rules": [{"subject_any": ["api"], "tags": ["api"], "line": 2}]}
    desk = make_desk(tmp_path, clock, rules)
    _requests(desk, tmp_path, "API returns 500", "Where is my invoice")
    lines = {r.subject: r.line for r in desk.stack()}
    assert lines == {"API returns 500": 2, "Where is my invoice": 1}
    assert [r.subject for r in desk.stack(line=2)] == ["API returns 500"]


@pytest.mark.slow  # two desks racing
def test_two_agents_escalating_at_once_move_it_once_and_keep_both_notes(
    tmp_path: Path, clock: FrozenClock
) -> None:
    first = make_desk(tmp_path, clock)
    _requests(first, tmp_path, *(f"Question {i}" for i in range(20)))
    second = make_desk(tmp_path, clock)  # another console on the same database
    try:
        for number in range(1, 21):
            start = threading.Barrier(2)
            got: list[object] = []
            threads = [
                threading.Thread(target=_race, args=(d, a, number, start, got))
                for d, a in ((first, "anna"), (second, "bob"))
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert all(not isinstance(g, BaseException) for g in got), got
            assert sorted(g.moved for g in got) == [False, True]  # type: ignore[attr-defined]
            assert first.request(number).request.line == 2
            assert len(_events(first, number, "escalate")) == 1
            assert sorted(_notes(first, number)) == [
                "anna thinks line 2 should see this",
                "bob thinks line 2 should see this",
            ]
    finally:
        second.close_database()
        first.close_database()


def _race(desk: Desk, agent: str, number: int, start: threading.Barrier, out: list[object]) -> None:
    try:
        start.wait(timeout=30)
        # both saw it on line 1 (their stacks' row) and press escalate at the same moment
        note = f"{agent} thinks line 2 should see this"
        out.append(desk.escalate(number, agent, note, seen_line=1))
    except BaseException as exc:
        start.abort()
        out.append(exc)


def test_cli_lines_escalate_and_handback(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    _requests(desk, tmp_path, "Login broken", "Invoice question")
    desk.close_database()
    add_agents(tmp_path, "root", role="admin")

    def cli(*args: str) -> tuple[int, str, str]:
        done = run_cli("--agent", "root", *args, cwd=tmp_path)
        return done.returncode, done.stdout, done.stderr

    code, _, err = cli("agents", "add", "sam", "--name", "Sam", "--line", "2")
    assert code == 0 and "line 2" in err
    code, _, err = cli("agents", "set", "anna", "--line", "3")
    assert code == 0 and "works line 3" in err
    code, out, err = cli("agents", "set", "anna", "--line", "1")
    code, out, _ = cli("agents", "list", "--json")
    assert {a["login"]: a["line"] for a in json.loads(out)} == {"anna": 1, "root": 1, "sam": 2}
    code, out, _ = cli("agents", "list")
    assert "line" in out.splitlines()[0]
    code, _, err = cli("agents", "set", "ghost", "--line", "2")
    assert code == 1 and "no agent 'ghost'" in err

    code, _, err = cli("requests", "escalate", "1")
    assert code == 2 and "--note" in err
    code, _, err = cli("requests", "escalate", "1", "--note", "auth logs", "--agent", "anna")
    assert code == 0 and "#1 escalated from line 1 to line 2" in err
    code, out, _ = cli("stack", "--line", "2", "--json")
    assert [(r["number"], r["line"], r["reason"]) for r in json.loads(out)] == [(1, 2, "escalated")]
    code, out, _ = cli("stack", "--line", "1", "--json")
    assert [r["number"] for r in json.loads(out)] == [2]
    code, out, _ = cli("stack", "--json")  # scripts without a line see every line
    assert sorted(r["number"] for r in json.loads(out)) == [1, 2]
    code, _, err = cli("stack", "--line", "3")
    assert "Line 3's stack is empty." in err

    code, out, _ = cli("requests", "take", "--agent", "sam", "--json")
    assert json.loads(out)["number"] == 1  # sam works line 2

    code, out, err = cli("requests", "escalate", "2", "--to", "sam", "--note", "x", "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "number": 2,
        "moved": True,
        "from_line": 1,
        "to_line": 2,
        "line": 2,
        "assignee": "sam",
    }
    code, _, err = cli("requests", "escalate", "2", "--to-line", "3", "--to", "sam", "--note", "x")
    assert code == 2 and "not both" in err
    code, _, err = cli("requests", "escalate", "99", "--note", "x")
    assert code == 1 and "#99 does not exist" in err

    code, _, err = cli("requests", "handback", "1", "--note", "done on our side")
    assert code == 0 and "#1 handed back from line 2 to line 1" in err
    code, _, err = cli("requests", "handback", "1", "--note", "again")
    assert code == 1 and "line 1 already" in err and len(err.strip().splitlines()) == 1
    code, out, _ = cli("requests", "show", "1")
    assert "escalate" in out and "handback" in out and "done on our side" in out


def test_agents_add_refuses_a_line_out_of_range(tmp_path: Path) -> None:
    write_config(tmp_path)
    add_agents(tmp_path, "root", role="admin")
    done = run_cli("--agent", "root", "agents", "add", "x", "--line", "0", cwd=tmp_path)
    assert (
        done.returncode == 2
        and "'--line'" in done.stderr
        and "greater than or equal to 1" in done.stderr
    )
    done = run_cli("--agent", "root", "requests", "escalate", "1", "--note", " ", cwd=tmp_path)
    assert done.returncode == 2 and "--note TEXT" in done.stderr


def test_the_line_rules_as_pure_functions() -> None:
    from datetime import UTC, datetime

    from supportdesk.domain import lifecycle
    from supportdesk.domain.enums import PUSH_REASONS

    now = datetime(2026, 1, 5, tzinfo=UTC)
    assert {"escalated", "handed_back"} <= set(PUSH_REASONS)
    change = lifecycle.line_moved("escalated", 2, now, assignee="sam")
    assert change["status"] == "open" and change["line"] == 2 and change["pushed_at"] == now
    assert change["assignee"] == "sam" and change["claimed_by"] is None
    assert lifecycle.escalation_target(1) == 2
    assert lifecycle.escalation_target(1, to_line=3) == 3
    assert lifecycle.escalation_target(2, agent_line=4) == 4
    with pytest.raises(ValueError, match="moves it up"):
        lifecycle.escalation_target(2, agent_line=2)
    assert lifecycle.handback_target(3, 2) == 2
    assert lifecycle.handback_target(3, None) == 1
    assert lifecycle.handback_target(2, 5) == 1  # not lower: the first line
    with pytest.raises(ValueError, match="line 1 already"):
        lifecycle.handback_target(1, None)
    with pytest.raises(ValueError):
        lifecycle.line_moved("fixed", 2, now)
