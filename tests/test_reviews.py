"""Trainees' letters (issue 19, points 1–3): every state a letter goes through on the desk
and through the CLI: held, approved (as written or edited), returned, sent again; who may
decide; the SLA that keeps counting; the tick, a new customer message and a merge around a
pending letter; graduating a trainee; the `agents` and `reviews` commands."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.domain.records import HeldLetter
from supportdesk.errors import SupportDeskError
from tests.databases import query
from tests.fixtures import add_agents, drop_into_maildir, make_desk, run_cli, write_config
from tests.mailfactory import make_mail


def _desk(tmp_path: Path, clock: FrozenClock, extra: dict | None = None) -> Desk:  # type: ignore[type-arg]
    desk = make_desk(tmp_path, clock, extra)
    desk.ensure_agent("mia", name="Mia Mentor")
    desk.ensure_agent("tom", name="Tom Trainee")
    desk.ensure_agent("bob", name="Bob Other")
    desk.set_training("tom", True, "mia")
    drop_into_maildir(tmp_path, make_mail(sender="ann@example.org", subject="Printer on fire"))
    desk.fetch()
    return desk


def _out(desk: Desk, number: int) -> list:  # type: ignore[type-arg]
    return [m for m in desk.request(number).messages if m.direction == "out"]


def _notes(desk: Desk, number: int) -> list[str]:
    return [m.text for m in desk.request(number).messages if m.direction == "note"]


def _events(desk: Desk, number: int, kind: str) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in desk.request(number).events if e["kind"] == kind]


# -- the desk ------------------------------------------------------------------------------


def test_held_then_approved_goes_out_once_signed_by_the_trainee(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk(tmp_path, clock)
    before = len(_out(desk, 1))
    desk.save_draft(1, "tom", "Please unpl")
    held = desk.reply(1, "Please unplug it.", "tom")

    assert isinstance(held, HeldLetter)
    request = desk.request(1).request
    assert request.status == "review" and request.first_response_at is None
    assert desk.stack() == [] and len(_out(desk, 1)) == before
    assert desk.draft(1, "tom") is None  # the letter is the review's now
    assert [e["actor"] for e in _events(desk, 1, "review_held")] == ["tom"]

    clock.advance(timedelta(minutes=12))  # the SLA counts until the customer gets it
    desk.reviews.approve(held.review_id, "mia")
    sent = _out(desk, 1)
    assert len(sent) == before + 1
    assert sent[-1].from_name.startswith("Tom Trainee") and "Please unplug it." in sent[-1].text
    request = desk.request(1).request
    assert request.status == "waiting" and request.first_response_at == clock.now()
    seconds = query(tmp_path, "SELECT first_response_seconds FROM request WHERE id = 1")
    assert round(float(seconds)) >= 12 * 60
    assert [e["actor"] for e in _events(desk, 1, "reply")] == ["tom"]
    assert [e["actor"] for e in _events(desk, 1, "review_approved")] == ["mia"]
    assert desk.reviews.get(held.review_id).state == "approved"
    assert desk.reviews.queue("mia") == []


def test_an_edited_approval_sends_the_edit_and_leaves_the_diff_in_the_thread(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk(tmp_path, clock)
    held = desk.reply(1, "Hello,\nunplug it.\nTom\n", "tom")
    desk.reviews.approve(held.review_id, "mia", body="Hello,\nunplug it right away.\nTom\n")

    assert "unplug it right away." in _out(desk, 1)[-1].text
    review = desk.reviews.get(held.review_id)
    assert review.edited and review.final_body is not None
    from supportdesk.desk.reviews import letter_diff

    diff = letter_diff(review)
    assert "-unplug it." in diff and "+unplug it right away." in diff
    notes = _notes(desk, 1)
    assert len(notes) == 1 and notes[0].startswith("Approved tom's letter with edits:")
    assert "+unplug it right away." in notes[0]
    note = [m for m in desk.request(1).messages if m.direction == "note"][0]
    assert note.agent_login == "mia"
    # approved as written: no note
    drop_into_maildir(tmp_path, make_mail(sender="ann@example.org", subject="Still smoking"))
    desk.fetch()
    again = desk.reply(2, "Call the fire brigade.", "tom")
    desk.reviews.approve(again.review_id, "mia", body="Call the fire brigade.\n")
    assert _notes(desk, 2) == []


def test_returned_then_sent_again_is_a_new_letter(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    first = desk.reply(1, "Dunno.", "tom")
    desk.reviews.return_letter(first.review_id, "mia", "Say how to put it out.")

    request = desk.request(1).request
    assert (request.status, request.reason, request.assignee) == ("open", "returned", "tom")
    assert desk.draft(1, "tom").text == "Dunno."  # type: ignore[union-attr]
    assert desk.reviews.returned_for(1, "tom").comment == "Say how to put it out."  # type: ignore[union-attr]
    assert _notes(desk, 1) == ["Returned to tom: Say how to put it out.\n"]
    assert [e["actor"] for e in _events(desk, 1, "review_returned")] == ["mia"]
    before = len(_out(desk, 1))

    second = desk.reply(1, "Use a CO2 extinguisher.", "tom")
    assert second.review_id != first.review_id
    assert desk.reviews.get(first.review_id).state == "returned"
    assert desk.reviews.get(second.review_id).state == "pending"
    assert desk.reviews.returned_for(1, "tom") is None
    assert len(_out(desk, 1)) == before
    with pytest.raises(SupportDeskError, match="returned by mia already"):
        desk.reviews.approve(first.review_id, "mia")


def test_the_same_idempotency_key_holds_one_letter(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    one = desk.reply(1, "Unplug it.", "tom", idempotency_key="k1")
    two = desk.reply(1, "Unplug it.", "tom", idempotency_key="k1")
    assert one == two
    assert len(desk.reviews.letters(number=1)) == 1


def test_only_the_mentor_or_an_admin_decides(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    desk.ensure_agent("ada", role="admin")
    held = desk.reply(1, "Unplug it.", "tom")
    for who in ("bob", "tom"):
        with pytest.raises(SupportDeskError, match="only mia \\(the mentor\\) or an admin"):
            desk.reviews.approve(held.review_id, who)
        with pytest.raises(SupportDeskError, match="only mia"):
            desk.reviews.return_letter(held.review_id, who, "no")
    assert desk.reviews.queue("bob") == [] and desk.reviews.queue("tom") == []
    assert [r.id for r in desk.reviews.queue("ada")] == [held.review_id]
    desk.reviews.approve(held.review_id, "ada")
    assert desk.reviews.get(held.review_id).decided_by == "ada"


def test_a_late_letter_is_overdue_and_pinned_first(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock, {"review": {"max_wait": "30m"}})
    drop_into_maildir(tmp_path, make_mail(sender="bea@example.org", subject="Second"))
    desk.fetch()
    desk.ensure_agent("tia")
    desk.set_training("tia", True, None)  # any admin reviews tia's
    older = desk.reply(1, "First letter.", "tom")
    clock.advance(timedelta(minutes=20))
    newer = desk.reply(2, "Second letter.", "tom")
    assert [r.id for r in desk.reviews.queue("mia")] == [older.review_id, newer.review_id]
    clock.advance(timedelta(minutes=11))  # older: 31 minutes, newer: 11
    queue = desk.reviews.queue("mia")
    assert [(r.id, r.overdue) for r in queue] == [
        (older.review_id, True),
        (newer.review_id, False),
    ]


def test_the_tick_leaves_a_letter_under_review_alone(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    held = desk.reply(1, "Unplug it.", "tom")
    before = len(_out(desk, 1))
    for _ in range(5):
        clock.advance(timedelta(days=1))
        desk.tick()
    request = desk.request(1).request
    assert request.status == "review" and len(_out(desk, 1)) == before
    assert desk.reviews.get(held.review_id).state == "pending"


def test_the_customer_writing_again_while_a_letter_waits(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _desk(tmp_path, clock)
    held = desk.reply(1, "Unplug it.", "tom")
    clock.advance(timedelta(minutes=3))
    drop_into_maildir(
        tmp_path,
        make_mail(sender="ann@example.org", subject="Re: Printer on fire [#1]", body="Hurry!"),
    )
    desk.fetch()
    assert [r.number for r in desk.stack()] == [1]  # back on the stack
    assert desk.reviews.get(held.review_id).state == "pending"
    desk.reviews.approve(held.review_id, "mia")
    assert "Unplug it." in _out(desk, 1)[-1].text


def test_a_merge_moves_the_letters(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(sender="ann@example.org", subject="Fire again"))
    desk.fetch()
    held = desk.reply(1, "Unplug it.", "tom")
    desk.merge(1, 2, "anna")
    assert desk.reviews.get(held.review_id).number == 2
    assert [r.id for r in desk.reviews.letters(number=2)] == [held.review_id]
    desk.reviews.approve(held.review_id, "mia")
    assert "Unplug it." in _out(desk, 2)[-1].text


def test_a_graduate_s_pending_letters_stay_reviewable(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(sender="bea@example.org", subject="Second"))
    desk.fetch()
    held = desk.reply(1, "Unplug it.", "tom")
    desk.set_training("tom", False)
    assert [r.id for r in desk.reviews.queue("mia")] == [held.review_id]
    desk.reviews.approve(held.review_id, "mia")
    direct = desk.reply(2, "Hello.", "tom")
    assert not isinstance(direct, HeldLetter)
    assert desk.request(2).request.status == "waiting"


# -- the CLI -------------------------------------------------------------------------------


def _cli(tmp_path: Path, *args: str, agent: str = "anna") -> tuple[int, str, str]:
    done = run_cli("--agent", agent, *args, cwd=tmp_path)
    return done.returncode, done.stdout, done.stderr


def test_agents_become_trainees_and_graduate(tmp_path: Path) -> None:
    write_config(tmp_path)
    add_agents(tmp_path, "anna", role="admin")
    code, _, err = _cli(tmp_path, "agents", "add", "mia", "--name", "Mia Mentor")
    assert code == 0, err
    code, out, err = _cli(
        tmp_path, "agents", "add", "tom", "--trainee", "--mentor", "mia", "--json"
    )
    assert code == 0, err
    assert (json.loads(out)["trainee"], json.loads(out)["mentor"]) == (True, "mia")
    code, _, err = _cli(tmp_path, "agents", "set", "mia", "--line", "2", "--trainee")
    assert code == 0 and "line 2" in err and "trainee of any admin" in err

    listed = {a["login"]: a for a in json.loads(_cli(tmp_path, "agents", "list", "--json")[1])}
    assert (listed["tom"]["trainee"], listed["tom"]["mentor"]) == (True, "mia")
    table = _cli(tmp_path, "agents", "list")[1]
    assert "trainee of" in table and "any admin" in table

    # one-line refusals: an unknown mentor, a mentor who is a trainee, oneself
    for args, words in (
        (("agents", "add", "pia", "--trainee", "--mentor", "ghost"), "no agent 'ghost'"),
        (("agents", "set", "tom", "--trainee", "--mentor", "mia"), "cannot mentor"),
        (("agents", "set", "anna", "--trainee", "--mentor", "anna"), "cannot mentor"),
    ):
        code, _, err = _cli(tmp_path, *args)
        assert code == 1 and words in err and err.count("\n") == 1, err
    code, _, err = _cli(tmp_path, "agents", "set", "tom", "--mentor", "anna")
    assert code == 2 and "--trainee" in err
    assert "pia" not in {
        a["login"] for a in json.loads(_cli(tmp_path, "agents", "list", "--json")[1])
    }

    code, _, err = _cli(tmp_path, "agents", "set", "tom", "--no-trainee")
    assert code == 0 and "no trainee any more" in err
    tom = {a["login"]: a for a in json.loads(_cli(tmp_path, "agents", "list", "--json")[1])}["tom"]
    assert (tom["trainee"], tom["mentor"]) == (False, None)


def _cli_desk(tmp_path: Path, clock: FrozenClock) -> Desk:
    """A desk whose letters were held at the frozen clock's time, long ago for the CLI."""
    desk = _desk(tmp_path, clock)
    desk.ensure_agent("ada", role="admin")
    drop_into_maildir(tmp_path, make_mail(sender="bea@example.org", subject="Second"))
    desk.fetch()
    return desk


def test_a_trainee_replies_and_the_mentor_approves_on_the_cli(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _cli_desk(tmp_path, clock)
    code, _, err = _cli(tmp_path, "requests", "reply", "1", "--body", "Unplug it.", agent="tom")
    assert code == 0 and err.strip() == "#1: held for review by mia (review 1)."
    code, out, _ = _cli(tmp_path, "requests", "reply", "2", "--body", "Hi.", "--json", agent="tom")
    assert json.loads(out) == {"held_for_review": True, "review": 2, "request": 2}

    shown = json.loads(_cli(tmp_path, "requests", "show", "1", "--json")[1])
    assert shown["status"] == "review"
    assert [(v["id"], v["state"]) for v in shown["reviews"]] == [(1, "pending")]
    text = _cli(tmp_path, "requests", "show", "1")[1]
    assert "review (" in text and "waits for review by mia (review 1" in text
    assert "review" in _cli(tmp_path, "requests", "list", "--status", "review")[1]

    drop_into_maildir(tmp_path, make_mail(sender="cy@example.org", subject="Third"))
    desk.fetch()
    late = desk.reply(3, "Old letter.", "tom")  # held at the frozen clock's time: long ago

    rows = json.loads(_cli(tmp_path, "reviews", "list", "--json", agent="mia")[1])
    assert [(r["id"], r["overdue"]) for r in rows] == [
        (late.review_id, True),
        (1, False),
        (2, False),
    ]
    table = _cli(tmp_path, "reviews", "list", agent="mia")[1]
    lines = [line for line in table.splitlines() if "#" in line]
    assert "late " in lines[0] and "Third" in lines[0] and "Printer on fire" in lines[1]
    assert "late" not in lines[1]
    assert "No letters wait" in _cli(tmp_path, "reviews", "list", agent="bob")[2]
    everyone = _cli(tmp_path, "reviews", "list", "--all", "--json", agent="bob")[1]
    assert len(json.loads(everyone)) == 3
    assert len(json.loads(_cli(tmp_path, "reviews", "list", "--json", agent="ada")[1])) == 3

    code, _, err = _cli(tmp_path, "reviews", "approve", "1", agent="bob")
    assert code == 1 and "only mia (the mentor) or an admin" in err and err.count("\n") == 1
    code, _, err = _cli(tmp_path, "reviews", "approve", "1", agent="tom")
    assert code == 1 and "only mia" in err
    code, _, err = _cli(tmp_path, "reviews", "approve", "1", agent="mia")
    assert code == 0 and "Review 1 approved: tom's answer to #1 queued" in err, err
    code, _, err = _cli(tmp_path, "reviews", "approve", "1", agent="mia")
    assert code == 1 and "review 1 was approved by mia already" in err
    sent = [m for m in desk.request(1).messages if m.direction == "out" and m.kind == "reply"]
    assert len(sent) == 1 and sent[0].from_name.startswith("Tom Trainee")

    code, _, err = _cli(tmp_path, "reviews", "return", "2", agent="mia")
    assert code == 2 and "--comment" in err
    code, _, err = _cli(tmp_path, "reviews", "return", "2", "--comment", "Say more.", agent="mia")
    assert code == 0 and "returned to tom" in err
    returned = json.loads(
        _cli(tmp_path, "reviews", "list", "--state", "returned", "--json", agent="mia")[1]
    )
    assert [(r["id"], r["comment"]) for r in returned] == [(2, "Say more.")]
    assert _cli(tmp_path, "reviews", "show", "99")[0] == 1


def test_an_edited_approval_on_the_cli_shows_the_diff(tmp_path: Path, clock: FrozenClock) -> None:
    desk = _cli_desk(tmp_path, clock)
    held = desk.reply(1, "Hello,\nunplug it.\n", "tom")
    edited = tmp_path / "edited.txt"
    edited.write_text("Hello,\nunplug it now, please.\n", encoding="utf-8")
    code, out, err = _cli(
        tmp_path, "reviews", "approve", str(held.review_id), "--body-file", str(edited),
        "--json", agent="mia",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["edited"] is True
    shown = json.loads(_cli(tmp_path, "reviews", "show", str(held.review_id), "--json")[1])
    assert "+unplug it now, please." in shown["diff"]
    assert shown["customer_message"]["from"] == "ann@example.org"
    text = _cli(tmp_path, "reviews", "show", str(held.review_id))[1]
    assert "approved by mia" in text and "-unplug it." in text and "tom's letter" in text
    last = [m for m in desk.request(1).messages if m.direction == "out"][-1]
    assert "unplug it now, please." in last.text
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    again = desk.reply(2, "Hi.", "tom")
    code, _, err = _cli(
        tmp_path, "reviews", "approve", str(again.review_id), "--body-file", str(empty),
        agent="mia",
    )  # fmt: skip
    assert code == 1 and "the edited letter is empty" in err


def test_a_trainee_s_template_reply_is_held_and_counts_when_approved(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = _cli_desk(tmp_path, clock)
    (tmp_path / "thanks.md").write_text("Hello {{ customer.first_name }},\n\nUnplug it.\n")
    added = _cli(tmp_path, "templates", "add", "thanks", "--file", "thanks.md", agent="tom")
    assert added[0] == 0, added[2]
    code, out, err = _cli(
        tmp_path, "requests", "reply", "1", "--template", "thanks", "--json", agent="tom"
    )
    assert code == 0, err
    assert json.loads(out) == {"held_for_review": True, "review": 1, "request": 1}
    code, _, err = _cli(tmp_path, "requests", "reply", "2", "--template", "thanks", agent="tom")
    assert err.strip() == "#2: held for review by mia (review 2)."
    assert desk.reviews.get(1).template == "thanks"
    assert _cli(tmp_path, "reviews", "approve", "1", agent="mia")[0] == 0
    listed = json.loads(_cli(tmp_path, "templates", "list", "--json", agent="tom")[1])
    assert [t["use_count"] for t in listed if t["name"] == "thanks"] == [1]


def test_the_demo_has_a_trainees_letter_waiting_for_the_demo_agent(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    built = run_cli("demo", "--path", str(folder), "--no-console", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    config = str(folder / "config.toml")
    again = run_cli("demo", "--path", str(folder), "--no-console", cwd=tmp_path)
    assert again.returncode == 0, again.stderr  # built once: no second letter
    listed = run_cli("--config", config, "reviews", "list", "--json", cwd=tmp_path)
    letters = json.loads(listed.stdout)
    assert [(r["request"], r["agent"], r["mentor"]) for r in letters] == [(1, "tom", "demo")]
    shown = run_cli("--config", config, "requests", "show", "1", "--json", cwd=tmp_path)
    assert json.loads(shown.stdout)["status"] == "review"
