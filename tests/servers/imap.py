"""Real IMAP servers for tests: pymap in-process, and Dovecot as a subprocess when installed.

Fixtures:
    imap_server     parametrised over ["pymap", "dovecot"] (the dovecot one carries the
                    ``dovecot`` marker, so ``-m "not dovecot"`` drops it)
    pymap_server    pymap only: its dict backend served from an asyncio loop in a thread of
                    this process; a new server (new port, empty mailboxes) per test
    pymap_server_factory  make(tls=None | "implicit" | "starttls") -> a PymapServer; with TLS
                    ``security`` is "tls" / "starttls" and ``ssl_context`` trusts its cert
    dovecot_server  Dovecot only: one ``dovecot -F`` per session on 127.0.0.1, writing its
                    config to a temp dir; every test logs in as a new user (empty Maildir).
                    Skipped when the binary is missing, unless SUPPORTDESK_REQUIRE_DOVECOT=1.

Each yields an ImapTestServer: host, port, username, password, security ("none"), kind,
deliver(messages, folder="INBOX"), reset_uidvalidity(folder="INBOX"), stop(), start(),
count(folder="INBOX"), uidvalidity(folder="INBOX") and client() (a logged-in IMAPClient).

Line endings: pymap serves exactly the bytes delivered (bare LF stays bare LF). Dovecot serves
every bare LF as CRLF (RFC822.SIZE counts the CRLF form); CRLF and lone CR pass unchanged.
APPEND through imaplib (ImapMailbox.append) turns every line ending into CRLF before sending.

The harnesses live in pymap_server.py and dovecot_server.py, the base class in imap_base.py;
this module is the pytest plugin and re-exports their names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers.dovecot_server import DovecotServer, _Dovecot, _find_dovecot
from tests.servers.imap_base import HOST, PASSWORD, ImapTestServer
from tests.servers.pymap_server import PymapServer, _LoopThread

__all__ = [
    "HOST",
    "PASSWORD",
    "REQUIRE_DOVECOT",
    "DovecotServer",
    "ImapTestServer",
    "PymapServer",
    "_Dovecot",
    "_LoopThread",
    "_find_dovecot",
]

REQUIRE_DOVECOT = "SUPPORTDESK_REQUIRE_DOVECOT"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "dovecot: runs against a Dovecot subprocess")


@pytest.fixture(scope="session")
def _pymap_loop() -> Iterator[_LoopThread]:
    loop = _LoopThread()
    yield loop
    loop.close()


def _no_dovecot(reason: str) -> None:
    if os.environ.get(REQUIRE_DOVECOT) == "1":
        pytest.fail(f"{reason} (and {REQUIRE_DOVECOT}=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def pymap_server_factory(
    _pymap_loop: _LoopThread, request: pytest.FixtureRequest
) -> Iterator[Callable[..., PymapServer]]:
    """make(tls=None | "implicit" | "starttls") -> a new PymapServer; TLS uses the smtp_cert
    fixture's self-signed certificate, which ``server.ssl_context`` trusts."""
    servers: list[PymapServer] = []

    def make(tls: str | None = None) -> PymapServer:
        cert = request.getfixturevalue("smtp_cert") if tls else None
        servers.append(PymapServer(_pymap_loop, tls, cert))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def pymap_server(pymap_server_factory: Callable[..., PymapServer]) -> PymapServer:
    """An in-process pymap server with one empty account, for this test only."""
    return pymap_server_factory()


@pytest.fixture(scope="session")
def _dovecot() -> Iterator[_Dovecot]:
    binary = _find_dovecot()
    if binary is None:
        _no_dovecot("dovecot is not installed (apt-get install dovecot-imapd)")
    assert binary is not None
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    if not version.startswith("2.3."):
        _no_dovecot(f"dovecot {version.strip()}: these fixtures write a Dovecot 2.3 config")
    root = Path(tempfile.mkdtemp(prefix="supportdesk-dovecot-"))
    root.chmod(0o755)  # Dovecot's unprivileged processes must reach the mail below it
    try:
        dovecot = _Dovecot(binary, root)
        yield dovecot
        dovecot.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dovecot_server(_dovecot: _Dovecot) -> Iterator[DovecotServer]:
    """A new Dovecot user with an empty INBOX, on the session's Dovecot."""
    server = DovecotServer(_dovecot)
    yield server
    server.close()


@pytest.fixture(
    params=["pymap", pytest.param("dovecot", marks=pytest.mark.dovecot)], ids=["pymap", "dovecot"]
)
def imap_server(request: pytest.FixtureRequest) -> ImapTestServer:
    """A real IMAP server with an empty INBOX: pymap in process, then Dovecot."""
    return request.getfixturevalue(f"{request.param}_server")  # type: ignore[no-any-return]
