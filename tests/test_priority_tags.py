"""Priority shown and used (urgent pinned above the LIFO order) and tags edited by agents, in
the desk and through the CLI."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.errors import NotFoundError, SupportDeskError
from tests.fixtures import add_agents, drop_into_maildir, make_desk, run_cli, write_config
from tests.mailfactory import make_mail

SLA = {"first_response": "12h", "warn_before": "2h"}
RULES = [{"subject_any": ["outage"], "priority": "urgent"}]


def arrive(desk: Desk, folder: Path, who: str, subject: str) -> int:
    drop_into_maildir(folder, make_mail(sender=f"{who}@example.org", subject=subject))
    desk.fetch()
    return max(r.number for r in desk.list_requests())


def readme_example(desk: Desk, folder: Path, clock: FrozenClock) -> list[int]:
    """The README's example: five requests over ten hours, looked at 10.5 h after the first."""
    one = arrive(desk, folder, "a", "Outage: nothing loads")  # 0 h, urgent by the rule
    clock.advance(timedelta(minutes=15))
    two = arrive(desk, folder, "b", "Invoice question")  # 0.25 h, normal
    clock.advance(timedelta(hours=4, minutes=45))
    three = arrive(desk, folder, "c", "Export is slow")  # 5 h, set to high
    desk.set_priority(three, "high", "anna")
    clock.advance(timedelta(hours=3))
    four = arrive(desk, folder, "d", "Outage again")  # 8 h, urgent by the rule
    clock.advance(timedelta(hours=2))
    five = arrive(desk, folder, "e", "Newsletter wording")  # 10 h, set to low
    desk.set_priority(five, "low", "anna")
    clock.advance(timedelta(minutes=30))
    return [one, two, three, four, five]


def test_urgent_is_pinned_above_sla_due_and_lifo(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock, {"sla": SLA, "rules": RULES})
    one, two, three, four, five = readme_example(desk, tmp_path, clock)
    assert [(r.number, r.priority) for r in desk.stack()] == [
        (one, "urgent"),  # urgent and due in 1.5 h
        (four, "urgent"),  # urgent
        (two, "normal"),  # due in 1.75 h
        (five, "low"),  # then last in, first out: low and high do not reorder
        (three, "high"),
    ]
    # take next follows the same order
    assert [desk.claim_next(agent).number for agent in ("anna", "bob", "carl")] == [  # type: ignore[union-attr]
        one,
        four,
        two,
    ]
    desk.set_priority(one, "normal", "anna")  # no longer urgent: still due soon, with #2
    assert [r.number for r in desk.stack()][:3] == [four, one, two]


def test_set_priority_records_from_and_to(desk: Desk, tmp_path: Path) -> None:
    number = arrive(desk, tmp_path, "a", "Question")
    assert desk.request(number).request.priority == "normal"
    assert desk.set_priority(number, "URGENT", "anna") == "normal"
    assert desk.set_priority(number, "urgent", "anna") == "urgent"  # unchanged: no event
    events = [e for e in desk.request(number).events if e["kind"] == "priority"]
    assert [(e["actor"], e["detail"]) for e in events] == [
        ("anna", {"from": "normal", "to": "urgent"})
    ]
    with pytest.raises(SupportDeskError, match="use one of urgent, high, normal, low"):
        desk.set_priority(number, "asap", "anna")
    with pytest.raises(NotFoundError):
        desk.set_priority(99, "low", "anna")


def test_tags_add_and_remove_idempotently(desk: Desk, tmp_path: Path) -> None:
    number = arrive(desk, tmp_path, "a", "Question")
    assert desk.change_tags(number, ["Billing", "vip"], [], "anna") == (["billing", "vip"], [])
    assert desk.change_tags(number, ["billing"], ["spam"], "anna") == ([], [])  # nothing new
    assert desk.change_tags(number, [], ["vip"], "anna") == ([], ["vip"])
    assert desk.request(number).request.tags == ["billing"]
    assert desk.known_tags() == ["billing"]
    events = [e["detail"] for e in desk.request(number).events if e["kind"] == "tags"]
    assert events == [
        {"added": ["billing", "vip"], "removed": []},
        {"added": [], "removed": ["vip"]},
    ]
    with pytest.raises(SupportDeskError, match="not allowed"):
        desk.change_tags(number, ["two words"], [], "anna")
    with pytest.raises(NotFoundError):
        desk.change_tags(99, ["x"], [], "anna")


def test_two_agents_tagging_at_once_lose_neither_tag(tmp_path: Path, clock: FrozenClock) -> None:
    first = make_desk(tmp_path, clock)
    for n in range(5):
        arrive(first, tmp_path, f"c{n}", f"Question {n}")
    second = make_desk(tmp_path, clock)  # another console on the same database
    try:
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def tag(desk: Desk, agent: str, tag: str) -> None:
            try:
                for number in range(1, 6):
                    start.wait()
                    desk.change_tags(number, [tag, "shared"], [], agent)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=tag, args=(first, "anna", "billing")),
            threading.Thread(target=tag, args=(second, "bob", "refund")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        for number in range(1, 6):
            detail = first.request(number)
            assert detail.request.tags == ["billing", "refund", "shared"]
            added = [t for e in detail.events if e["kind"] == "tags" for t in e["detail"]["added"]]
            assert sorted(added) == ["billing", "refund", "shared"]  # "shared" added once
    finally:
        second.close_database()


def cli_json(*args: str, cwd: Path) -> object:
    result = run_cli(*args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_priority_and_tags(tmp_path: Path) -> None:
    write_config(tmp_path)
    add_agents(tmp_path, "anna")
    drop_into_maildir(tmp_path, make_mail(message_id="p1@x"), make_mail(message_id="p2@x"))
    assert run_cli("fetch", cwd=tmp_path).returncode == 0

    done = run_cli("requests", "set", "1", "--priority", "urgent", "--agent", "anna", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "#1: priority urgent (was normal)." in done.stderr + done.stdout
    rows = cli_json("stack", cwd=tmp_path)
    assert [(r["number"], r["priority"]) for r in rows] == [(1, "urgent"), (2, "normal")]  # type: ignore[index]
    table = run_cli("stack", cwd=tmp_path).stdout
    assert "priority" in table and "urgent" in table

    bad = run_cli("requests", "set", "1", "--priority", "asap", "--agent", "anna", cwd=tmp_path)
    assert bad.returncode == 2
    assert "unknown priority 'asap': use one of urgent, high, normal, low" in bad.stderr

    tagged = cli_json("requests", "tag", "2", "+Billing", "spam", "--agent", "anna", cwd=tmp_path)
    assert tagged == {
        "number": 2,
        "added": ["billing", "spam"],
        "removed": [],
        "tags": ["billing", "spam"],
    }
    untag = run_cli("requests", "tag", "2", "-spam", "+billing", "--agent", "anna", cwd=tmp_path)
    assert untag.returncode == 0, untag.stderr
    assert "#2: -spam; tags: billing." in untag.stderr + untag.stdout
    shown = cli_json("requests", "show", "2", cwd=tmp_path)
    assert shown["tags"] == ["billing"]  # type: ignore[index]
    kinds = [(e["kind"], e["actor"]) for e in shown["events"] if e["kind"] == "tags"]  # type: ignore[index]
    assert kinds == [("tags", "anna"), ("tags", "anna")]

    bad_tag = run_cli("requests", "tag", "2", "+no way!", "--agent", "anna", cwd=tmp_path)
    assert bad_tag.returncode == 2 and "is not allowed" in bad_tag.stderr
    missing = run_cli("requests", "tag", "9", "+x", "--agent", "anna", cwd=tmp_path)
    assert missing.returncode == 1 and "request #9 does not exist" in missing.stderr
