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
    repaired = run_cli("db", "check", "--repair", cwd=tmp_path)
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
