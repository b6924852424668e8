"""What the console needs from the desk besides the workflow: notes, drafts, today's numbers,
the mailbox's health, a customer's other requests, change detection and the poller lease."""

from __future__ import annotations

import mailbox
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.errors import MailServerError, NotFoundError, SupportDeskError
from tests.databases import ON_POSTGRESQL
from tests.fixtures import drop_into_maildir, imap_mailbox, make_desk, run_cli_process
from tests.mailfactory import make_mail

# -- notes ----------------------------------------------------------------------------------


def test_a_note_stays_in_the_thread_and_never_reaches_the_customer(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)  # outgoing: files in ./outbox
    drop_into_maildir(tmp_path, make_mail(message_id="q@x"))
    desk.fetch()
    clock.advance(timedelta(minutes=1))
    desk.add_note(1, "Carol is on the enterprise plan: check her contract first.", "anna")
    with pytest.raises(SupportDeskError):
        desk.add_note(1, "  \n", "anna")
    with pytest.raises(NotFoundError):
        desk.add_note(7, "Where is this?", "anna")

    detail = desk.request(1)
    note = detail.messages[-1]
    assert (note.direction, note.kind, note.status) == ("note", "note", "note")
    assert note.agent_login == "anna" and note.from_name == "Anna Agent"
    assert note.text.startswith("Carol is on the enterprise plan")
    assert detail.request.message_count == 3  # the question, the acknowledgement, the note
    assert detail.request.inbound_count == 1
    assert [(e["kind"], e["actor"]) for e in detail.events][-1] == ("note", "anna")
    assert desk.stack()[0].number == 1  # a note is no answer: the request stays on the stack

    desk.reply(1, "We are looking into it.", "anna")
    assert desk.deliver().sent == 2
    assert desk.deliver().sent == 0
    sent = [p.read_text() for p in (tmp_path / "outbox").glob("*.eml")]
    assert len(sent) == 2  # the acknowledgement and the reply
    assert not any("enterprise plan" in text for text in sent)
    assert desk.outbox_counts() == {"sent": 2}
    assert desk.outbox_pending() == {}
    assert desk.search("enterprise")[0].request_id == 1  # agents find their notes


# -- search ---------------------------------------------------------------------------------


def test_search_finds_words_senders_and_the_last_word_as_a_prefix(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """One search function over FTS5 (SQLite) and a tsvector (PostgreSQL), alike."""
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="Carol <carol@billing-dept.example.org>",
            subject="Invoice wrong",
            body="The invoice shows the wrong amount, see https://shop.example.com/orders/77.\n",
            message_id="en@x",
        ),
        make_mail(
            sender="Дмитрий <dima@example.ru>",
            subject="Пароль",
            body="Не могу войти: забыл пароль от личного кабинета.\n",
            message_id="ru@x",
        ),
    )
    desk.fetch()

    def found(query: str) -> list[int]:
        """The requests with a message found (the question, or our acknowledgement of it)."""
        return sorted({hit.request_id for hit in desk.search(query)})

    assert found("invoice") == found("INVOICE") == found("inv") == [1]
    assert found("wrong amo") == [1]
    assert found("amo wrong") == []  # only the last word is a prefix
    assert found("carol@billing-dept.example.org") == found("billing") == [1]
    assert found("shop example com orders 77") == [1]
    assert found("ПАРОЛЬ") == found("кабин") == found("dima") == [2]
    assert found("example") == [1, 2]
    assert found("") == found("!!! ...") == found("nothing-like-this") == []
    [hit] = desk.search("amount")
    assert (hit.request_id, hit.subject, hit.from_addr, hit.status) == (
        1,
        "Invoice wrong",
        "carol@billing-dept.example.org",
        "new",
    )
    assert "wrong amount" in hit.snippet


# -- drafts ---------------------------------------------------------------------------------


def test_a_draft_survives_closing_the_desk_and_goes_when_the_reply_is_sent(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail())
    desk.fetch()
    assert desk.draft(1, "anna") is None
    desk.save_draft(1, "anna", "Dear Carol,\n\nthe corrected", template="invoice_fix")
    desk.save_draft(1, "bob", "Hi Carol")
    with pytest.raises(NotFoundError):
        desk.save_draft(9, "anna", "text")
    desk.close_database()

    clock.advance(timedelta(hours=1))
    desk = make_desk(tmp_path, clock)  # the console was closed and opened again
    draft = desk.draft(1, "anna")
    assert draft is not None
    assert (draft.text, draft.template) == ("Dear Carol,\n\nthe corrected", "invoice_fix")
    assert draft.updated_at == clock.now() - timedelta(hours=1)
    assert draft.as_dict()["template"] == "invoice_fix"

    desk.save_draft(1, "anna", "Dear Carol,\n\nthe corrected invoice is attached.")
    draft = desk.draft(1, "anna")
    assert draft is not None and draft.template is None and draft.updated_at == clock.now()

    desk.reply(1, "Dear Carol,\n\nthe corrected invoice is attached.", "anna")
    assert desk.draft(1, "anna") is None
    other = desk.draft(1, "bob")  # another agent's draft is theirs to drop
    assert other is not None and other.text == "Hi Carol"
    desk.drop_draft(1, "bob")
    assert desk.draft(1, "bob") is None
    desk.drop_draft(1, "bob")  # dropping nothing is fine


# -- today ----------------------------------------------------------------------------------


@pytest.fixture
def new_york_time() -> Iterator[None]:
    """The machine's local time zone is UTC-5 (no DST rules needed: a POSIX TZ string)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "EST5"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def test_todays_numbers_start_at_local_midnight(
    tmp_path: Path, clock: FrozenClock, new_york_time: None
) -> None:
    clock.set(datetime(2026, 1, 5, 3, 0, tzinfo=UTC))  # 22:00 on the 4th in New York
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="late@x"))
    desk.fetch()  # #1, yesterday evening

    clock.set(datetime(2026, 1, 5, 6, 0, tzinfo=UTC))  # 01:00 on the 5th: a new day
    drop_into_maildir(
        tmp_path,
        make_mail(sender="dan@example.net", subject="Login fails"),  # #2
        make_mail(subject="Re: My invoice is wrong [#1]", body="Any news?\n"),
        make_mail(  # Carol's out-of-office answering our acknowledgement: not a message
            subject="Automatic reply: My invoice is wrong [#1]",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    desk.fetch()
    today = desk.today()
    assert today.since == datetime(2026, 1, 5, 5, 0, tzinfo=UTC)
    assert (today.received, today.new_requests, today.answered, today.on_stack) == (2, 1, 0, 2)
    assert today.median_first_answer is None

    clock.advance(timedelta(minutes=10))
    desk.reply(1, "The corrected invoice is on its way.", "anna")  # 3 h 10 min after #1 came
    clock.advance(timedelta(minutes=20))
    desk.add_note(2, "Probably the SSO outage.", "anna")
    desk.reply(2, "Please try again now.", "anna")  # 30 min after #2 came
    clock.advance(timedelta(minutes=5))
    desk.reply(1, "And here is the credit note.", "anna")  # a second answer, not a first one
    today = desk.today()
    assert (today.received, today.new_requests, today.answered, today.on_stack) == (2, 1, 3, 0)
    assert today.median_first_answer == timedelta(hours=1, minutes=50)
    assert today.as_dict()["median_first_answer_seconds"] == 6600

    clock.set(datetime(2026, 1, 6, 5, 0, tzinfo=UTC))  # midnight again in New York
    today = desk.today()
    assert (today.received, today.new_requests, today.answered, today.on_stack) == (0, 0, 0, 0)
    assert today.median_first_answer is None


# -- the mailbox ----------------------------------------------------------------------------


def test_mailbox_status_shows_every_poll_of_a_maildir_and_an_mbox(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path / "maildir", clock)
    status = desk.mailbox_status()
    assert (status.kind, status.last_poll_at, status.error) == ("maildir", None, None)
    desk.fetch()
    assert desk.mailbox_status().last_poll_at == clock.now()
    clock.advance(timedelta(minutes=5))
    desk.fetch()
    assert desk.mailbox_status().last_poll_at == clock.now()

    folder = tmp_path / "mbox"
    folder.mkdir()
    box = mailbox.mbox(folder / "mail.mbox")
    box.add(make_mail())
    box.close()
    desk = make_desk(folder, clock, {"mailbox": {"kind": "mbox", "path": "mail.mbox"}})
    assert desk.fetch().intake.stored == 1
    assert desk.mailbox_status().last_poll_at == clock.now()
    clock.advance(timedelta(minutes=5))
    assert desk.fetch().intake.seen == 0  # nothing new, yet the poll shows
    status = desk.mailbox_status()
    assert (status.kind, status.last_poll_at, status.error) == ("mbox", clock.now(), None)

    desk = make_desk(tmp_path / "none", clock, {"mailbox": {"kind": "none"}})
    assert desk.mailbox_status().as_dict() == {"kind": "none", "last_poll_at": None, "error": None}


@pytest.mark.imap
def test_mailbox_status_shows_an_imap_outage_until_the_next_good_poll(
    tmp_path: Path, clock: FrozenClock, pymap_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    pymap_server.deliver([make_mail(message_id="first@x")])
    monkeypatch.setenv("TEST_IMAP_PASSWORD", pymap_server.password)
    desk = make_desk(tmp_path, clock, {"mailbox": imap_mailbox(pymap_server)})
    desk.fetch()
    assert desk.mailbox_status().last_poll_at == clock.now()
    clock.advance(timedelta(minutes=1))
    assert desk.fetch().intake.seen == 0
    status = desk.mailbox_status()
    assert (status.kind, status.last_poll_at, status.error) == ("imap", clock.now(), None)

    pymap_server.stop()
    clock.advance(timedelta(minutes=1))
    with pytest.raises(MailServerError):
        desk.fetch()
    status = desk.mailbox_status()
    assert status.last_poll_at == clock.now()
    assert status.error is not None and "connection refused" in status.error

    pymap_server.start()
    clock.advance(timedelta(minutes=1))
    desk.fetch()  # a new poller (as after restarting the console): the error is history
    status = desk.mailbox_status()
    assert (status.last_poll_at, status.error) == (clock.now(), None)


# -- the customer panel ---------------------------------------------------------------------


def test_a_customers_other_requests_newest_first(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    for subject in ("Invoice wrong", "Password reset", "Cancel my plan"):
        drop_into_maildir(tmp_path, make_mail(subject=subject))
        drop_into_maildir(tmp_path, make_mail(sender="dan@example.net", subject=subject))
        desk.fetch()
        clock.advance(timedelta(hours=1))
    carol = desk.request(1).request.customer_id
    found = desk.customer_requests(carol, exclude=3)
    assert [(r.number, r.subject) for r in found] == [(5, "Cancel my plan"), (1, "Invoice wrong")]
    assert {r.customer_email for r in found} == {"carol@example.org"}
    assert [r.number for r in desk.customer_requests(carol, limit=1)] == [5]
    assert desk.customer_requests(999) == []


# -- change detection -----------------------------------------------------------------------


def test_data_version_changes_when_someone_else_commits(tmp_path: Path, clock: FrozenClock) -> None:
    console = make_desk(tmp_path, clock)
    console.add_agent("olga", "Olga K", role="admin")
    drop_into_maildir(tmp_path, make_mail())
    console.fetch()
    version = console.data_version()
    other = make_desk(tmp_path, clock)  # another console on the same file
    try:
        console.stack()
        console.today()
        console.request(1)
        other.stack()
        assert console.data_version() == version  # nothing happened: nothing to refresh

        assert other.claim(1, "bob")
        changed = console.data_version()
        assert changed != version
        assert console.data_version() == changed

        result = run_cli_process("--agent", "olga", "agents", "add", "zoe", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert console.data_version() != changed
    finally:
        other.close_database()
        console.close_database()


def test_another_desks_writes_do_not_look_like_changes_here(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Two desks on one server (PostgreSQL) or one machine: a console refreshes for its own
    desk's changes only, not whenever a neighbour's database is written."""
    console = make_desk(tmp_path / "ours", clock)
    neighbour = make_desk(tmp_path / "theirs", clock)
    try:
        version = console.data_version()
        drop_into_maildir(tmp_path / "theirs", make_mail())
        assert neighbour.fetch().intake.new_requests == [1]
        neighbour.add_agent("olga", "Olga K", role="admin")
        assert console.data_version() == version
        assert console.add_agent("olga", "Olga K", role="admin")
        assert console.data_version() != version
    finally:
        neighbour.close_database()
        console.close_database()


@pytest.mark.skipif(not ON_POSTGRESQL, reason="LISTEN/NOTIFY is PostgreSQL's")
def test_a_notified_console_already_reads_the_change(tmp_path: Path, clock: FrozenClock) -> None:
    """PostgreSQL wakes a console when another one commits: by then the change counter has
    moved, so the refresh the notification starts is not skipped as 'nothing new'."""
    console = make_desk(tmp_path, clock)
    other = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail())
    console.fetch()
    seen: list[int] = []
    woken = threading.Event()

    def on_change() -> None:
        seen.append(console.data_version())
        woken.set()

    stop = console.watch_changes(on_change)
    assert stop is not None
    try:
        # The listener connects in its own thread: write until it hears (no sleeping), then
        # let the notifications of those writes arrive.
        for turn in range(40):
            assert other.claim(1, "bob") if turn % 2 == 0 else other.release(1, "bob")
            if woken.wait(0.25):
                break
        else:
            pytest.fail("no notification within 10 s of another console's writes")
        while woken.wait(0.5):
            woken.clear()
        seen.clear()
        before = console.data_version()
        other.add_agent("zoe", "Zoe")
        assert woken.wait(10), "no notification within 10 s of another console's write"
        assert seen[0] == other.data_version() != before  # the counter had moved already
    finally:
        stop()
        other.close_database()
        console.close_database()


# -- the poller lease -----------------------------------------------------------------------


def test_the_poller_lease_has_one_holder_until_it_expires(
    tmp_path: Path, clock: FrozenClock
) -> None:
    a = make_desk(tmp_path, clock)
    b = make_desk(tmp_path, clock)  # a second console on the same database
    minute = timedelta(minutes=1)
    try:
        assert a.lease_holder("poller") is None
        assert a.acquire_lease("poller", "host-a:1", minute)
        assert not b.acquire_lease("poller", "host-b:2", minute)
        assert b.lease_holder("poller") == ("host-a:1", clock.now() + minute)

        clock.advance(timedelta(seconds=30))
        assert a.acquire_lease("poller", "host-a:1", minute)  # renewed
        clock.advance(timedelta(seconds=59))
        assert not b.acquire_lease("poller", "host-b:2", minute)

        clock.advance(timedelta(seconds=1))  # host-a stopped renewing: its lease is over
        assert b.lease_holder("poller") is None
        assert b.acquire_lease("poller", "host-b:2", minute)
        assert not a.acquire_lease("poller", "host-a:1", minute)
        assert a.lease_holder("poller") == ("host-b:2", clock.now() + minute)

        a.release_lease("poller", "host-a:1")  # not a's to give up
        assert a.lease_holder("poller") == ("host-b:2", clock.now() + minute)
        b.release_lease("poller", "host-b:2")
        assert a.lease_holder("poller") is None
        assert a.acquire_lease("poller", "host-a:1", minute)
        assert a.acquire_lease("tick", "host-b:2", minute)  # leases are independent
    finally:
        b.close_database()
        a.close_database()
