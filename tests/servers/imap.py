"""Real IMAP servers for tests: pymap in-process, and Dovecot as a subprocess when installed.

Fixtures:
    imap_server     parametrised over ["pymap", "dovecot"] (the dovecot one carries the
                    ``dovecot`` marker, so ``-m "not dovecot"`` drops it)
    pymap_server    pymap only: its dict backend served from an asyncio loop in a thread of
                    this process; a new server (new port, empty mailboxes) per test
    dovecot_server  Dovecot only: one ``dovecot -F`` per session on 127.0.0.1, writing its
                    config to a temp dir; every test logs in as a new user (empty Maildir).
                    Skipped when the binary is missing, unless SUPPORTDESK_REQUIRE_DOVECOT=1.

Each yields an ImapTestServer: host, port, username, password, security ("none"), kind,
deliver(messages, folder="INBOX"), reset_uidvalidity(folder="INBOX"), stop(), start(),
count(folder="INBOX"), uidvalidity(folder="INBOX") and client() (a logged-in IMAPClient).

Line endings: pymap serves exactly the bytes delivered (bare LF stays bare LF). Dovecot serves
every bare LF as CRLF (RFC822.SIZE counts the CRLF form); CRLF and lone CR pass unchanged.
APPEND through imaplib (ImapMailbox.append) turns every line ending into CRLF before sending.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import pytest
from imapclient import IMAPClient

HOST = "127.0.0.1"
PASSWORD = "secret"
REQUIRE_DOVECOT = "SUPPORTDESK_REQUIRE_DOVECOT"
_T = TypeVar("_T")


class ImapTestServer:
    """A running IMAP server with one account whose mailbox starts empty."""

    kind = ""
    host = HOST
    security = "none"
    password = PASSWORD
    username = ""
    port = 0

    def deliver(self, messages: Sequence[bytes], folder: str = "INBOX") -> None:
        """Put `messages` into `folder` (created if needed), in order, with increasing UIDs."""
        raise NotImplementedError

    def reset_uidvalidity(self, folder: str = "INBOX") -> None:
        """Give `folder` a new UIDVALIDITY; its messages stay."""
        raise NotImplementedError

    def stop(self) -> None:
        """Take the server down (connections drop, the port refuses)."""
        raise NotImplementedError

    def start(self) -> None:
        """Bring the server back on the same port."""
        raise NotImplementedError

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        """A logged-in imapclient connection, for assertions."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        try:
            client.login(self.username, self.password)
            yield client
        finally:
            with suppress(Exception):
                client.logout()

    def count(self, folder: str = "INBOX") -> int:
        """How many messages `folder` holds (STATUS over IMAP)."""
        with self.client() as client:
            return int(client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"])

    def uidvalidity(self, folder: str = "INBOX") -> int:
        """The folder's current UIDVALIDITY (STATUS over IMAP)."""
        with self.client() as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.username}@{self.host}:{self.port}>"


# --- pymap, in process -----------------------------------------------------------------------


class _LoopThread:
    """One asyncio loop in a daemon thread, shared by every pymap server of the session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="pymap", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float = 600) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def _pymap_args(username: str, password: str) -> argparse.Namespace:
    """The argparse namespace `pymap dict` would build (so pymap's own defaults apply)."""
    from pymap.backend.dict import DictBackend
    from pymap.imap import IMAPService

    parser = argparse.ArgumentParser()
    parser.add_argument("--debug", action="store_true")
    parser.set_defaults(skip_services=[], passlib_cfg=None)
    DictBackend.add_subparser("dict", parser.add_subparsers(dest="backend"))
    IMAPService.add_arguments(parser)
    argv = ["--no-tls", "--host", HOST, "--port", "0", "dict"]
    return parser.parse_args([*argv, "--demo-user", username, "--demo-password", password])


class PymapServer(ImapTestServer):
    """pymap's in-memory dict backend, served from the shared loop thread."""

    kind = "pymap"
    username = "support"

    def __init__(self, loop: _LoopThread) -> None:
        self._loop = loop
        self._server: asyncio.base_events.Server | None = None
        self._writers: weakref.WeakSet[asyncio.StreamWriter] = weakref.WeakSet()
        self._backend, self._config = loop.run(self._init())
        self.start()

    async def _init(self) -> tuple[Any, Any]:
        from pymap.backend.dict import DictBackend
        from pymap.concurrent import Subsystem
        from pysasl.hashing import Cleartext

        args = _pymap_args(self.username, self.password)
        return await DictBackend.init(
            args, hash_context=Cleartext(), cpu_subsystem=Subsystem.for_asyncio()
        )

    def start(self) -> None:
        if self._server is None:
            self.port = self._loop.run(self._listen())

    def stop(self) -> None:
        if self._server is not None:
            self._loop.run(self._close())

    close = stop

    async def _listen(self) -> int:
        from proxyprotocol.reader import ProxyProtocolReader
        from pymap.imap import IMAPServer

        self._config.apply_context()  # connection tasks inherit this task's context
        imap = IMAPServer(self._backend.login, self._config)
        handler = ProxyProtocolReader(self._config.proxy_protocol).get_callback(imap)

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._writers.add(writer)
            await handler(reader, writer)

        self._server = await asyncio.start_server(on_connect, HOST, self.port)
        return int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        server, self._server = self._server, None
        assert server is not None
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await server.wait_closed()

    async def _in_session(self, work: Any) -> Any:
        self._config.apply_context()
        async with self._backend.login.demo_user_identity.new_session() as session:
            return await work(session)

    def deliver(self, messages: Sequence[bytes], folder: str = "INBOX") -> None:
        from pymap.exceptions import MailboxConflict
        from pymap.parsing.message import AppendMessage

        async def work(session: Any) -> None:
            if folder.upper() != "INBOX":
                with suppress(MailboxConflict):
                    await session.create_mailbox(folder)
            for start in range(0, len(messages), 200):  # let other connections breathe
                chunk = [AppendMessage(bytes(m)) for m in messages[start : start + 200]]
                await session.append_messages(folder, chunk)
                await asyncio.sleep(0)

        self._loop.run(self._in_session(work))

    def reset_uidvalidity(self, folder: str = "INBOX") -> None:
        async def work(session: Any) -> None:
            boxes = session.mailbox_set
            before = (await boxes.get_mailbox(folder)).uid_validity
            while True:  # pymap draws UIDVALIDITY at random: retry on the rare repeat
                parked = f"sd-reset-{uuid.uuid4().hex}"
                await boxes.rename_mailbox(folder, parked)  # renaming INBOX leaves a new INBOX
                if folder.upper() != "INBOX":
                    await boxes.add_mailbox(folder)
                old, new = await boxes.get_mailbox(parked), await boxes.get_mailbox(folder)
                for uid in [msg.uid async for msg in old.messages()]:
                    await old.copy(uid, new)
                await boxes.delete_mailbox(parked)
                if new.uid_validity != before:
                    return

        self._loop.run(self._in_session(work))


# --- Dovecot, as a subprocess ----------------------------------------------------------------

_DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = supportdesk-test-{port}
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
default_internal_user = {internal_user}
default_login_user = {login_user}
mail_uid = {mail_uid}
mail_gid = {mail_gid}
first_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
mail_location = maildir:~/Maildir
mail_fsync = never
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _find_dovecot() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)),
        None,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    with suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class _Dovecot:
    """One `dovecot -F` for the session. Dovecot will not touch mail as root, so when we are
    root its mail (and login) processes run as `nobody` (login: `dovenull` if it exists)."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary, self.root, self.port = binary, root, _free_port()
        sibling = Path(binary).parent.parent / "bin" / "doveadm"
        self.doveadm = shutil.which("doveadm") or str(sibling)
        me = pwd.getpwuid(os.getuid())
        self.chown = os.getuid() == 0
        mail = pwd.getpwnam("nobody") if self.chown else me
        login = "nobody"
        with suppress(KeyError):
            login = pwd.getpwnam("dovenull").pw_name
        self.uid, self.gid = mail.pw_uid, mail.pw_gid
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self.own(root / "mail")
        self.config = root / "dovecot.conf"
        self.config.write_text(
            _DOVECOT_CONF.format(
                root=root,
                host=HOST,
                port=self.port,
                password=PASSWORD,
                internal_user=me.pw_name,
                login_user=login if self.chown else me.pw_name,
                mail_uid=self.uid,
                mail_gid=self.gid,
            )
        )
        self._proc: subprocess.Popen[bytes] | None = None
        self._users = itertools.count(1)
        self._serial = itertools.count(1)
        self._base = int(time.time())
        self.start()

    def own(self, path: Path) -> None:
        if self.chown:
            os.chown(path, self.uid, self.gid)

    def new_user(self) -> str:
        return f"user{next(self._users)}"

    def next_name(self) -> str:
        """A Maildir base name; Dovecot gives new files UIDs in this (sorted) order."""
        n = next(self._serial)
        return f"{self._base + n // 1_000_000}.M{n % 1_000_000:06d}P{os.getpid()}Q{n}.sdtest"

    def start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        with open(self.root / "dovecot.out", "ab") as out:
            self._proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            with suppress(OSError), socket.create_connection((HOST, self.port), timeout=1):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"dovecot did not start on {HOST}:{self.port}:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        text = ""
        for name in ("dovecot.out", "dovecot.log"):
            with suppress(OSError):
                text += (self.root / name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def run_doveadm(self, *args: str) -> str:
        done = subprocess.run(
            [self.doveadm, "-c", str(self.config), *args], capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"doveadm {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout


class DovecotServer(ImapTestServer):
    """A fresh Dovecot user (empty Maildir) on the session's Dovecot."""

    kind = "dovecot"

    def __init__(self, dovecot: _Dovecot) -> None:
        self._dovecot = dovecot
        self.port = dovecot.port
        self.username = dovecot.new_user()
        self.home = dovecot.root / "mail" / self.username
        self.home.mkdir()
        dovecot.own(self.home)
        self._maildir("INBOX")

    def _maildir(self, folder: str) -> Path:
        top = self.home / "Maildir"
        path = top if folder.upper() == "INBOX" else top / ("." + folder.replace("/", "."))
        for part in (top, path, path / "cur", path / "new", path / "tmp"):
            if not part.exists():
                part.mkdir()
                self._dovecot.own(part)
        if path != top and not (path / "maildirfolder").exists():
            (path / "maildirfolder").touch()
            self._dovecot.own(path / "maildirfolder")
        return path

    @contextmanager
    def _uidlist_lock(self, path: Path) -> Iterator[None]:
        """Hold Dovecot's uidlist dotlock, so no sync assigns UIDs to half a delivery."""
        lock = path / "dovecot-uidlist.lock"
        deadline = time.monotonic() + 60
        while True:
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                break
            except FileExistsError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        try:
            os.write(fd, f"{os.getpid()}:{socket.gethostname()}".encode())
            os.close(fd)
            yield
        finally:
            lock.unlink()

    def deliver(self, messages: Sequence[bytes], folder: str = "INBOX") -> None:
        path = self._maildir(folder)
        with self._uidlist_lock(path):
            for raw in messages:
                raw = bytes(raw)
                vsize = len(raw) + raw.count(b"\n") - raw.count(b"\r\n")  # as served: CRLF
                name = f"{self._dovecot.next_name()},S={len(raw)},W={vsize}"
                staged = path / "tmp" / name
                staged.write_bytes(raw)
                self._dovecot.own(staged)
                os.rename(staged, path / "new" / name)

    def reset_uidvalidity(self, folder: str = "INBOX") -> None:
        status = self._dovecot.run_doveadm(
            "mailbox", "status", "-u", self.username, "uidvalidity", folder
        )
        current = int(re.search(r"uidvalidity=(\d+)", status).group(1))  # type: ignore[union-attr]
        new = current % 0xFFFFFFFF + 1
        self._dovecot.run_doveadm(
            "mailbox", "update", "-u", self.username, "--uid-validity", str(new), folder
        )

    def stop(self) -> None:
        self._dovecot.stop()

    def start(self) -> None:
        self._dovecot.start()

    def close(self) -> None:
        self._dovecot.start()  # a test that stopped the server leaves it running for the next
        shutil.rmtree(self.home, ignore_errors=True)


# --- fixtures --------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "dovecot: runs against a Dovecot subprocess")


@pytest.fixture(scope="session")
def _pymap_loop() -> Iterator[_LoopThread]:
    loop = _LoopThread()
    yield loop
    loop.close()


@pytest.fixture
def pymap_server(_pymap_loop: _LoopThread) -> Iterator[PymapServer]:
    """An in-process pymap server with one empty account, for this test only."""
    server = PymapServer(_pymap_loop)
    yield server
    server.close()


@pytest.fixture(scope="session")
def _dovecot() -> Iterator[_Dovecot]:
    binary = _find_dovecot()
    if binary is None:
        reason = "dovecot is not installed (apt-get install dovecot-imapd)"
        if os.environ.get(REQUIRE_DOVECOT) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_DOVECOT}=1", pytrace=False)
        pytest.skip(reason)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    if not re.match(r"2\.3\.", version):
        reason = f"dovecot {version.split()[0] if version else '?'}: these fixtures speak 2.3"
        if os.environ.get(REQUIRE_DOVECOT) == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="supportdesk-dovecot-"))
    root.chmod(0o755)  # Dovecot's unprivileged processes must reach the mail below it
    try:
        dovecot = _Dovecot(binary, root)
    except Exception:
        shutil.rmtree(root, ignore_errors=True)
        raise
    yield dovecot
    dovecot.stop()
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
