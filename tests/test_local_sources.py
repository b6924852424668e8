"""Local sources lose nothing: an mbox emptied or rewritten in place, a Maildir whose mail
another client reads into cur/, a file that cannot be read, a mistyped mailbox path."""

from __future__ import annotations

import json
import mailbox
import os
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from supportdesk.desk import Desk
from tests.fixtures import drop_into_maildir, make_desk, run_cli, write_config
from tests.mailfactory import make_mail

MBOX = {"mailbox": {"kind": "mbox", "path": "support.mbox"}}


def append_to_mbox(path: Path, *raws: bytes) -> None:
    """Deliver to the end of the mbox the way an MDA does."""
    box = mailbox.mbox(str(path))
    for raw in raws:
        box.add(raw)
    box.flush()
    box.close()


def rewrite_in_place(path: Path, *raws: bytes) -> None:
    """What mutt does on quitting (and an MDA's `:0` recipe that empties the spool): the same
    file, the same inode, new contents."""
    fresh = path.with_name("fresh.mbox")
    append_to_mbox(fresh, *raws)
    data = fresh.read_bytes() if raws else b""
    fresh.unlink()
    with path.open("r+b") as f:
        f.truncate(0)
        f.write(data)


def subjects(desk: Desk) -> list[str]:
    return sorted(r.subject for r in desk.stack())


@pytest.mark.parametrize("how", ["emptied", "rewritten without the first message"])
def test_an_mbox_rewritten_in_place_loses_nothing(
    tmp_path: Path, clock: FrozenClock, how: str
) -> None:
    path = tmp_path / "support.mbox"
    first = make_mail(subject="First", message_id="a@x")
    second = make_mail(subject="Second", message_id="b@x")
    append_to_mbox(path, first, second)
    desk = make_desk(tmp_path, clock, MBOX)
    assert desk.fetch().intake.stored == 2
    inode = path.stat().st_ino

    kept = [] if how == "emptied" else [second]
    rewrite_in_place(path, *kept)
    append_to_mbox(
        path,
        make_mail(subject="Third", message_id="c@x"),
        make_mail(subject="Fourth", message_id="d@x"),
    )
    assert path.stat().st_ino == inode

    report = desk.fetch()
    assert report.intake.stored == 2
    assert subjects(desk) == ["First", "Fourth", "Second", "Third"]
    assert desk.fetch().intake.seen == 0


def test_an_mbox_whose_read_flags_change_is_not_read_again(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """mutt adds `Status: RO` to what it showed: the same mail, nothing to take again."""
    path = tmp_path / "support.mbox"
    append_to_mbox(path, make_mail(message_id="a@x"), make_mail(message_id="b@x"))
    desk = make_desk(tmp_path, clock, MBOX)
    assert desk.fetch().intake.stored == 2
    data = path.read_bytes().replace(b"\nSubject:", b"\nStatus: RO\nSubject:")
    with path.open("r+b") as f:
        f.truncate(0)
        f.write(data)
    append_to_mbox(path, make_mail(subject="Later", message_id="c@x"))
    report = desk.fetch()
    assert (report.intake.seen, report.intake.stored, report.rescanned) == (1, 1, [])


def test_maildir_mail_read_into_cur_by_another_client_is_taken_once(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(subject="Taken first", message_id="a@x"))
    assert desk.fetch().intake.stored == 1
    new, cur = tmp_path / "mail" / "new", tmp_path / "mail" / "cur"
    # Another client reads the message we took (it gets the S flag) ...
    [ours] = os.listdir(cur)
    (cur / ours).rename(cur / (ours.split(":")[0] + ":2,S"))
    # ... and a new one, before our next poll: new/ -> cur/ with flags.
    drop_into_maildir(tmp_path, make_mail(subject="Read elsewhere", message_id="b@x"))
    [name] = os.listdir(new)
    (new / name).rename(cur / f"{name}:2,S")

    report = desk.fetch()
    assert (report.intake.stored, report.intake.duplicates) == (1, 0)
    assert subjects(desk) == ["Read elsewhere", "Taken first"]
    again = desk.fetch()
    assert (again.intake.seen, again.intake.stored) == (0, 0)
    assert len(os.listdir(cur)) == 2 and os.listdir(new) == []


def test_an_unreadable_file_in_new_is_skipped_with_a_warning_and_retried(
    tmp_path: Path,
) -> None:
    write_config(tmp_path)
    new = tmp_path / "mail" / "new"
    drop_into_maildir(tmp_path, make_mail(subject="Good one", message_id="a@x"))
    (new / "0000.broken.test").mkdir()  # a folder where a message should be
    drop_into_maildir(tmp_path, make_mail(subject="Good two", message_id="b@x"))
    locked = None
    if os.geteuid() != 0:  # root reads anything
        drop_into_maildir(tmp_path, make_mail(subject="Locked", message_id="c@x"))
        locked = sorted(new.iterdir())[-1]
        locked.chmod(0)

    result = run_cli("fetch", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    fetched = json.loads(result.stdout)["fetch"]
    assert fetched["stored"] == 2
    assert any("0000.broken.test" in w and "next fetch" in w for w in fetched["warnings"])
    assert (new / "0000.broken.test").exists()

    plain = run_cli("fetch", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    said = plain.stderr.replace("\n", "")  # Rich wraps long lines
    assert "warning: " in said and "new/0000.broken.test: cannot be read" in said
    if locked is not None:
        assert locked.exists() and len(fetched["warnings"]) == 2
        locked.chmod(0o644)
        retried = json.loads(run_cli("fetch", "--json", cwd=tmp_path).stdout)["fetch"]
        assert retried["stored"] == 1 and not locked.exists()


@pytest.mark.parametrize(
    ("mailbox_section", "complaint"),
    [
        ({"kind": "maildir", "path": "mial"}, "no such folder"),
        ({"kind": "maildir", "path": "plain"}, "not a Maildir"),
        ({"kind": "mbox", "path": "support.mbox"}, "no such file"),
    ],
)
def test_a_missing_or_wrong_mailbox_path_is_an_error_and_fails_db_check(
    tmp_path: Path, mailbox_section: dict[str, str], complaint: str
) -> None:
    (tmp_path / "plain").mkdir()
    write_config(tmp_path, {"mailbox": mailbox_section})
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0

    result = run_cli("fetch", cwd=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert complaint in line and "mailbox.path" in line

    check = run_cli("db", "check", "--json", cwd=tmp_path)
    assert check.returncode == 1
    [found] = [c for c in json.loads(check.stdout) if c["check"] == "mailbox"]
    assert found["status"] == "fail"
    assert complaint in found["detail"] and "mailbox.path" in found["detail"]


def test_db_check_says_a_good_mailbox_is_ok(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    check = run_cli("db", "check", cwd=tmp_path)
    assert check.returncode == 0, check.stdout
    assert "ok    mailbox" in check.stdout
