"""Shared fixtures: real servers on 127.0.0.1, a real SQLite file, a frozen clock."""

from __future__ import annotations

pytest_plugins = [
    "tests.servers.imap",
    "tests.servers.smtp",
    "tests.fixtures",
]
