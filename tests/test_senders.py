"""Who really wrote: a display name that could pass for someone else is shown with its address,
in the console and the CLI; invisible and bidi control characters never reach the screen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable
from typer.testing import CliRunner

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from supportdesk.mail.parse import parse_message
from supportdesk.ui import make_app
from supportdesk.ui.screens.request import RequestScreen
from supportdesk.ui.screens.requests import RequestsScreen
from tests.fixtures import drop_into_maildir, make_desk
from tests.mailfactory import make_mail
from tests.test_console import settle

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"

SENDERS = [
    # (From, subject): oldest first, so the stack shows them in reverse
    ("Carol Customer <carol@example.org>", "Charged twice"),
    ("Dan Miller <dan@example.net>", "Cannot log in"),
    ('"Evil, Man" <fake@bank.example>', "Your account"),
    ('"ceo@ourbank.com" <x@evil.example>', "Urgent transfer"),
    ("Dan Miller <dan.miller@evil.example>", "New bank details"),
    ("<nobody@example.com>", "No name at all"),
]


def honest_desk(folder: Path, clock: FrozenClock) -> Desk:
    """Six requests, one per sender above: #1 Carol ... #6 the nameless one (on top)."""
    desk = make_desk(folder, clock)
    for n, (sender, subject) in enumerate(SENDERS, 1):
        drop_into_maildir(folder, make_mail(sender=sender, subject=subject, message_id=f"s{n}@x"))
        desk.fetch()
        clock.advance(timedelta(minutes=3))
    return desk


def customer_cells(app: Any) -> dict[int, str]:
    table = app.screen.query_one(DataTable)
    column = [str(c.key.value) for c in table.ordered_columns].index("customer")
    return {int(str(key.value)): str(table.get_row(key)[column]).strip() for key in table.rows}


# -- the decision ------------------------------------------------------------------------------


def test_the_address_goes_beside_a_name_that_could_deceive() -> None:
    from supportdesk.desk.senders import sender_label

    assert str(sender_label("Carol Customer", "carol@example.org")) == "Carol Customer"
    assert str(sender_label("", "carol@example.org")) == "carol@example.org"
    assert str(sender_label("Evil, Man", "fake@bank.example")) == "Evil, Man <fake@bank.example>"
    assert (
        str(sender_label("ceo@ourbank.com", "x@evil.example")) == "ceo@ourbank.com <x@evil.example>"
    )
    other = sender_label("Bank Security", "carol@example.org", known_name="Carol Customer")
    assert str(other) == "Bank Security <carol@example.org>"
    assert other.warning == "this address is known as Carol Customer"
    same = sender_label("carol  CUSTOMER", "carol@example.org", known_name="Carol Customer")
    assert not same.show_address
    shared = sender_label("Dan Miller", "dan.miller@evil.example", name_shared=True)
    assert str(shared) == "Dan Miller <dan.miller@evil.example>"
    hidden = sender_label("Car\u200bol\u202e", "c@x.example", known_name="Carol")
    assert str(hidden) == "Carol" and not hidden.show_address


def test_a_long_label_gives_up_its_name_before_its_address() -> None:
    from supportdesk.desk.senders import sender_label

    label = sender_label("Evil, Man from the Bank", "fake@bank.example")
    assert label.fit(30) == "Evil, Man… <fake@bank.example>"
    assert label.fit(20) == "fake@bank.example"  # no room for even a letter of the name
    assert label.fit(10) == "…k.example"  # the domain is the last to go
    assert len(label.fit(30)) == 30


# -- parsing -----------------------------------------------------------------------------------


def test_zero_width_and_bidi_characters_leave_subject_name_and_file_name() -> None:
    raw = make_mail(
        sender=f'"Ca{INVISIBLE}rol {BIDI}Customer" <carol@example.org>',
        subject=f"Re{INVISIBLE}fund {BIDI}please",
        attachment=(f"invoice{INVISIBLE}\u202efdp.exe", b"MZ"),
    )
    msg = parse_message(raw)
    assert msg.from_name == "Carol Customer"
    assert msg.subject == "Refund please"
    [attachment] = msg.attachments
    # the right-to-left override would have shown "invoiceexe.pdf": the real extension stays
    assert attachment.filename == "invoicefdp.exe"
    assert attachment.original_filename == "invoicefdp.exe"
    assert msg.raw == raw  # the stored raw message keeps every byte


def test_raw_utf8_headers_lose_invisible_characters_too() -> None:
    raw = (
        "From: Ev\u200bil\u202e Man <fake@bank.example>\r\n"
        "To: support@example.com\r\n"
        "Subject: \ufeffpay\u2060ment\u200d due\r\n"
        "Message-ID: <raw.1@x>\r\n"
        "\r\n"
        "body\r\n"
    ).encode()
    msg = parse_message(raw)
    assert (msg.from_name, msg.subject) == ("Evil Man", "payment due")
    assert msg.raw == raw


# -- the console -------------------------------------------------------------------------------


async def test_the_stack_shows_the_address_beside_a_deceptive_name(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = honest_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = customer_cells(app)
    assert shown[1] == "Carol Customer"  # a name that is hers alone: no address
    assert shown[3] == "Evil, Man <fake@bank.example>"
    assert shown[4] == "ceo@ourbank.com <x@evil.example>"
    # a stranger with a customer's name: both show who they are
    assert shown[5] == "Dan Miller <dan.miller@evil.example>"
    assert shown[2] == "Dan Miller <dan@example.net>"
    assert shown[6] == "nobody@example.com"


async def test_on_80_columns_the_name_gives_way_not_the_address(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = honest_desk(tmp_path, clock)
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = customer_cells(app)
        subject_width = [c.width for c in app.screen.query_one(DataTable).ordered_columns][4]
    assert shown[1] == "Carol Customer"
    # the name gives way (entirely when it must); the address stays whole
    assert shown[3].endswith("fake@bank.example") and "Evil" not in shown[3].replace("Ev…", "")
    assert shown[4].endswith("<x@evil.example>") and shown[4].startswith("ceo")
    assert shown[5].endswith("@evil.example")  # a long address keeps its domain
    assert subject_width >= 14  # and the subject keeps two thirds of its room


async def test_the_requests_list_and_the_request_show_who_wrote(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = honest_desk(tmp_path, clock)
    # Carol's own address, someone else's name: the thread says so
    drop_into_maildir(
        tmp_path,
        make_mail(
            sender="Bank Security <carol@example.org>",
            subject="Re: [#1] Charged twice",
            message_id="s7@x",
        ),
    )
    desk.fetch()
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.action_requests()
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
        listed = customer_cells(app)
        assert listed[3] == "Evil, Man <fake@bank.example>"
        assert listed[1] == "Carol Customer"
        app.open_request(3)
        await settle(pilot)
        assert isinstance(app.screen, RequestScreen)
        facts = str(app.screen.query_one("#facts").render())
        assert "⚠ the name looks like an address" in facts and "fake@bank.example" in facts
        app.pop_screen()
        await settle(pilot)
        app.open_request(1)
        await settle(pilot)
        thread = [str(v.render()) for v in app.screen.query("MessageView")]
        assert "⚠" not in thread[0]  # Carol as Carol
        assert "From Bank Security <carol@example.org>" in thread[-1]
        assert "⚠ this address is known as Carol Customer" in thread[-1]


# -- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, clock: FrozenClock) -> Iterator[Any]:
    """`supportdesk ...` through Typer's CliRunner, on the desk in tmp_path."""
    from supportdesk.cli import requestcmds  # noqa: F401 - registers the commands
    from supportdesk.cli.app import app

    honest_desk(tmp_path, clock).close_database()

    def run(*args: str) -> Any:  # each invocation has a state of its own, closes its desk
        result = CliRunner().invoke(app, ["--config", str(tmp_path / "config.toml"), *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    yield run


def test_cli_stack_shows_the_address_beside_a_deceptive_name(cli: Any) -> None:
    table = cli("stack").stdout
    rows = {line.split()[0]: line for line in table.splitlines() if line.startswith("#")}
    assert "Evil, Man <fake@bank.example>" in rows["#3"]
    assert "ceo@ourbank.com <x@evil.example>" in rows["#4"]
    assert "Dan Miller <dan.miller@evil.example>" in rows["#5"]
    assert "Carol Customer" in rows["#1"] and "<" not in rows["#1"]

    stack = {r["number"]: r for r in json.loads(cli("stack", "--json").stdout)}
    assert stack[3]["customer_label"] == "Evil, Man <fake@bank.example>"
    assert stack[3]["customer_warning"] == "the name looks like an address"
    assert stack[5]["customer_warning"] == "another customer has this name"
    assert (stack[1]["customer_label"], stack[1]["customer_warning"]) == ("Carol Customer", None)
    listed = {r["number"]: r for r in json.loads(cli("requests", "list", "--json").stdout)}
    assert listed[4]["customer_label"] == "ceo@ourbank.com <x@evil.example>"


def test_cli_requests_show_names_the_real_address(cli: Any) -> None:
    shown = json.loads(cli("requests", "show", "4", "--json").stdout)
    assert shown["customer_label"] == "ceo@ourbank.com <x@evil.example>"
    assert shown["customer_warning"] == "the name looks like an address"
    [message] = shown["messages"][:1]
    assert message["from_label"] == "ceo@ourbank.com <x@evil.example>"
    assert message["from_warning"] == "the name looks like an address"

    text = cli("requests", "show", "5").stdout
    assert "Dan Miller <dan.miller@evil.example>" in text
    assert "⚠ another customer has this name" in text
    honest = cli("requests", "show", "1").stdout
    assert "⚠" not in honest


async def test_rows_stored_before_the_cleaning_are_clean_on_screen(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """A subject stored by an older version, zero-width and bidi characters and all."""
    from supportdesk.store.requests import update_request

    desk = honest_desk(tmp_path, clock)
    with desk.db.write() as conn:
        update_request(conn, 6, subject=f"No{INVISIBLE} name{BIDI} at all")
    app = make_app(desk, "anna", background=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert str(table.get_row("6")[4]).strip() == "No name at all"
