"""All of the shared corpus through `supportdesk import`: each message stored exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supportdesk.mail.parse import parse_message
from tests.databases import ON_POSTGRESQL, query, rows
from tests.fixtures import corpus_or_skip, run_cli, write_config


@pytest.mark.slow
def test_whole_corpus_imports_exactly_once(tmp_path: Path) -> None:
    corpus = corpus_or_skip()
    files = [p for p in corpus.rglob("*") if p.is_file() and p.name != "SOURCES.md"]
    # The oracle: distinct Message-IDs (or, without one, distinct contents) in the files.
    expected = {parse_message(p.read_bytes()).message_id for p in files}
    write_config(tmp_path, {"outgoing": {"kind": "none"}})

    first = run_cli("import", str(corpus), "--json", cwd=tmp_path, timeout=900)
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.loads(first.stdout)
    assert report["seen"] == len(files) > 8000
    assert report["stored"] == len(expected)
    assert report["stored"] + report["duplicates"] + report["copies_kept"] == len(files)
    assert report["acknowledgements"] == 0  # an import never writes to old customers
    assert report["with_warnings"] > 100  # parsing had to guess, and said so

    stored = {r[0] for r in rows(tmp_path, "SELECT message_id FROM message") or []}
    raw_rows = query(tmp_path, "SELECT count(*) FROM message_raw")
    outgoing = query(tmp_path, "SELECT count(*) FROM message WHERE direction = 'out'")
    warned = query(tmp_path, "SELECT count(*) FROM message WHERE warnings IS NOT NULL")
    # Every message in the full-text index: FTS5's table, or PostgreSQL's tsvector column.
    indexed = "count(search) FROM message" if ON_POSTGRESQL else "count(*) FROM message_fts"
    fts = query(tmp_path, f"SELECT {indexed}")
    assert stored == expected
    assert raw_rows == report["stored"] + report["copies_kept"]  # every distinct copy kept
    assert outgoing == 0
    assert warned == report["with_warnings"]
    assert fts == len(stored)

    second = run_cli("import", str(corpus), "--json", cwd=tmp_path, timeout=900)
    assert second.returncode == 0, second.stderr[-2000:]
    again = json.loads(second.stdout)
    assert again["stored"] == 0 and again["copies_kept"] == 0
    assert again["duplicates"] == len(files)
