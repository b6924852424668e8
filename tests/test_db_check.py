"""`supportdesk db check`: a broken search index, mail nobody delivers, no poller — each
found, named and (the index) repaired."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.clock import FrozenClock
from tests.fixtures import drop_into_maildir, make_desk, run_cli
from tests.mailfactory import make_mail


def statuses(checks: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {c.name: c.status for c in checks}


def test_a_healthy_desk_and_a_stuck_outbox(tmp_path: Path, clock: FrozenClock) -> None:
    desk = make_desk(tmp_path, clock)
    drop_into_maildir(tmp_path, make_mail(message_id="a@x"))
    desk.fetch()  # the acknowledgement is queued, not delivered
    assert statuses(desk.check()) == {
        "integrity": "ok",
        "full-text index": "ok",
        "outbox": "ok",
        "poller": "warn",  # nobody holds the lease
    }
    clock.advance(timedelta(hours=1))
    [outbox] = [c for c in desk.check() if c.name == "outbox"]
    assert outbox.status == "fail" and "1 messages due since" in outbox.detail
    desk.deliver()
    desk.acquire_lease("poller", "console@here", timedelta(minutes=3))
    assert statuses(desk.check())["outbox"] == "ok"
    assert statuses(desk.check())["poller"] == "ok"


def test_a_search_index_out_of_step_is_found_and_rebuilt(
    tmp_path: Path, clock: FrozenClock
) -> None:
    desk = make_desk(tmp_path, clock)
    if desk.db.dialect != "sqlite":
        pytest.skip("PostgreSQL's search column is generated: it cannot drift")
    drop_into_maildir(
        tmp_path, make_mail(body="The quarterly invoice is wrong.\n", message_id="b@x")
    )
    desk.fetch()
    desk.deliver()
    desk.add_agent("olga", "Olga K", role="admin")  # a repair is an admin's
    with desk.db.write() as conn:  # what a crash in the middle of a hand-made edit leaves
        conn.exec_driver_sql(
            "INSERT INTO message_fts(message_fts, rowid, subject, from_addr, from_name, text) "
            "VALUES ('delete', 1, 'x', 'y', 'z', 'w')"
        )
    desk.close_database()
    broken = run_cli("db", "check", "--json", cwd=tmp_path)
    assert broken.returncode == 1
    [fts] = [c for c in json.loads(broken.stdout) if c["check"] == "full-text index"]
    assert fts["status"] == "fail" and "db check --repair" in fts["detail"]
    repaired = run_cli("--agent", "olga", "db", "check", "--repair", cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stdout
    assert "ok    full-text index  2 messages indexed (rebuilt)" in repaired.stdout
    found = run_cli("search", "quarterly", "--json", cwd=tmp_path)
    assert [h["number"] for h in json.loads(found.stdout)] == [1]


def test_backup_of_a_postgresql_desk_says_how_without_the_password(tmp_path: Path) -> None:
    from tests.fixtures import write_config

    write_config(
        tmp_path, {"desk": {"database": "postgresql+psycopg://desk:s3cret@db.example:5432/support"}}
    )
    result = run_cli("db", "backup", "desk.dump", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "pg_dump --format=custom --file desk.dump 'postgresql://desk@db.example:5432/support'"
        in (result.stderr)
    )
    assert "s3cret" not in result.stderr


# -- a damaged SQLite file ------------------------------------------------------------------

PAGE = 16384


def _damaged_desk(folder: Path, clock: FrozenClock, how: str) -> Path:
    """A desk of 30 requests from 30 customers whose SQLite file is then damaged: `pages`
    (garbage over some pages in the middle), `truncated` (the last third cut off) or
    `not-a-database` (a file that never was one)."""
    from tests.databases import ON_POSTGRESQL

    if ON_POSTGRESQL:
        pytest.skip("a damaged file is SQLite's; PostgreSQL checks its own pages")
    desk = make_desk(folder, clock)
    mails = [
        make_mail(f"C{i} <c{i}@example.org>", f"Question {i}", "word " * 3000, message_id=f"{i}@x")
        for i in range(30)
    ]
    drop_into_maildir(folder, *mails)
    desk.fetch()
    desk.close_database()
    db = folder / "desk.db"
    data = db.read_bytes()
    pages = len(data) // PAGE
    if how == "pages":
        middle = pages // 2
        data = data[: middle * PAGE] + b"\xde\xad" * PAGE * 2 + data[(middle + 4) * PAGE :]
    elif how == "truncated":
        data = data[: (pages * 2 // 3) * PAGE]
    else:
        data = b"This is not a database, it is a note someone saved as desk.db.\n" * 3000
    db.write_bytes(data)
    return db


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("how", ["pages", "truncated", "not-a-database"])
def test_db_check_says_what_is_wrong_with_a_damaged_file_and_what_to_do(
    tmp_path: Path, clock: FrozenClock, how: str
) -> None:
    db = _damaged_desk(tmp_path, clock, how)
    before = _digest(db)
    for args in (("db", "check"), ("db", "check", "--full")):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert result.stderr == ""
        [line] = result.stdout.strip().splitlines()
        assert line.startswith("fail  integrity        desk.db is damaged (")
        assert "run `supportdesk db check --repair` to recover it into desk.recovered.db" in line
        assert "or restore a backup" in line
    as_json = run_cli(*args, "--json", cwd=tmp_path)
    assert as_json.returncode == 1
    [check] = json.loads(as_json.stdout)
    assert check["check"] == "integrity" and check["status"] == "fail"
    assert "desk.db is damaged" in check["detail"]
    assert _digest(db) == before  # checking never writes to it
    other = run_cli("requests", "list", cwd=tmp_path)  # any command that meets the damage
    if other.returncode:
        [error] = other.stderr.strip().splitlines()
        assert "desk.db is damaged" in error and "db check --repair" in error


@pytest.mark.parametrize("how", ["pages", "truncated"])
def test_repair_recovers_what_can_be_read_into_a_new_file(
    tmp_path: Path, clock: FrozenClock, how: str
) -> None:
    db = _damaged_desk(tmp_path, clock, how)
    before = _digest(db)
    result = run_cli("db", "check", "--repair", cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # the desk still points at the damaged file
    recovered = tmp_path / "desk.recovered.db"
    assert recovered.is_file()
    assert _digest(db) == before
    assert f"Recovered desk.db into {recovered}:" in result.stdout
    assert "request                 30 rows" in result.stdout
    assert "desk.db was not changed. Next: check it: set desk.database" in result.stdout
    again = run_cli("db", "check", "--repair", "--json", cwd=tmp_path)
    report = json.loads(again.stdout)
    assert report["recovered_into"] == str(tmp_path / "desk.recovered-2.db")  # never overwrites
    assert report["rows"]["request"] == 30 and report["rows"]["customer"] == 30
    assert report["incomplete_tables"] or report["unreadable_tables"]
    assert "desk.database" in report["next_step"]
    # The recovered file is a desk: point the config at it and work on.
    config = tmp_path / "config.toml"
    config.write_text(
        config.read_text().replace("sqlite:///desk.db", "sqlite:///desk.recovered.db")
    )
    listed = run_cli("requests", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert sorted(r["number"] for r in json.loads(listed.stdout)) == list(range(1, 31))
    checked = run_cli("db", "check", "--json", cwd=tmp_path)
    assert {c["check"]: c["status"] for c in json.loads(checked.stdout)}["full-text index"] == "ok"


def test_repair_of_a_file_that_is_no_database_says_to_restore_a_backup(
    tmp_path: Path, clock: FrozenClock
) -> None:
    db = _damaged_desk(tmp_path, clock, "not-a-database")
    before = _digest(db)
    result = run_cli("db", "check", "--repair", cwd=tmp_path)
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("supportdesk: desk.db cannot be read at all (file is not a database)")
    assert "restore a backup" in error
    assert not list(tmp_path.glob("desk.recovered*"))
    assert _digest(db) == before
