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
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import grp
import itertools
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Coroutine, Iterator, Sequence
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
    security = "none"  # "tls" / "starttls" for pymap_server_factory(tls=...)
    ssl_context: ssl.SSLContext | None = None  # for clients: trusts the server's certificate
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
        tls = self.security == "tls"
        client = IMAPClient(self.host, self.port, ssl=tls, ssl_context=self.ssl_context, timeout=30)
        try:
            if self.security == "starttls":
                client.starttls(self.ssl_context)
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
            asyncio.get_running_loop().stop()

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop)
        self._thread.join(10)
        self.loop.close()


def _pymap_args(username: str, password: str, starttls: bool) -> argparse.Namespace:
    """The argparse namespace `pymap dict` would build (so pymap's own defaults apply)."""
    from pymap.backend.dict import DictBackend
    from pymap.imap import IMAPService

    parser = argparse.ArgumentParser()
    parser.add_argument("--debug", action="store_true")
    parser.set_defaults(skip_services=[], passlib_cfg=None)
    DictBackend.add_subparser("dict", parser.add_subparsers(dest="backend"))
    IMAPService.add_arguments(parser)
    argv = [*([] if starttls else ["--no-tls"]), "--host", HOST, "--port", "0", "dict"]
    return parser.parse_args([*argv, "--demo-user", username, "--demo-password", password])


class PymapServer(ImapTestServer):
    """pymap's in-memory dict backend, served from the shared loop thread; with `tls`
    ("implicit" or "starttls") and a (cert, key) pair it speaks TLS."""

    kind = "pymap"
    username = "support"

    def __init__(
        self, loop: _LoopThread, tls: str | None = None, cert: tuple[Path, Path] | None = None
    ) -> None:
        self._loop, self._tls, self._server_ssl = loop, tls, None
        if tls is not None:
            if tls not in ("implicit", "starttls") or cert is None:
                raise ValueError("tls is 'implicit' or 'starttls', and needs a cert")
            self._server_ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._server_ssl.load_cert_chain(str(cert[0]), str(cert[1]))
            self.ssl_context = ssl.create_default_context(cafile=str(cert[0]))
            self.security = "tls" if tls == "implicit" else "starttls"
        self._server: asyncio.base_events.Server | None = None
        self._writers: weakref.WeakSet[asyncio.StreamWriter] = weakref.WeakSet()
        self._backend, self._config = loop.run(self._init())
        self.start()

    async def _init(self) -> tuple[Any, Any]:
        from pymap.backend.dict import DictBackend
        from pymap.concurrent import Subsystem
        from pysasl.hashing import Cleartext

        starttls = self._tls == "starttls"
        args = _pymap_args(self.username, self.password, starttls)
        tls = {"ssl_context": self._server_ssl} if starttls else {}
        # Cleartext: no password hashing per login; for_asyncio: no worker threads per server.
        return await DictBackend.init(
            args, hash_context=Cleartext(), cpu_subsystem=Subsystem.for_asyncio(), **tls
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

        implicit = self._server_ssl if self._tls == "implicit" else None
        self._server = await asyncio.start_server(on_connect, HOST, self.port, ssl=implicit)
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
auth_failure_delay = 0
log_path = {root}/dovecot.log
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_uid = {mail_uid}
mail_gid = {mail_gid}
first_valid_uid = {mail_uid}
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
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
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


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    """End a process group we started: the master leaves running imap processes alone."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(2)  # a master that has only just started can take 6 s to shut down cleanly
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


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
                internal_group=grp.getgrgid(os.getgid()).gr_name,
                mail_uid=self.uid,
                mail_gid=self.gid,
                login_user=login if self.chown else me.pw_name,
            )
        )
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # stop() may come from a test's timer thread
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
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            with open(self.root / "dovecot.out", "ab") as out:
                self._proc = proc = subprocess.Popen(
                    [self.binary, "-F", "-c", str(self.config)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,
                    start_new_session=True,
                )  # its own process group: stop() ends every child
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and proc.poll() is None:
                with suppress(OSError), socket.create_connection((HOST, self.port), timeout=1):
                    return
                time.sleep(0.02)
            self._proc = None
            _end_group(proc)
        raise RuntimeError(f"dovecot did not start on {HOST}:{self.port}:\n{self.log_tail()}")

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None:
                _end_group(proc)

    def log_tail(self, lines: int = 30) -> str:
        logs = [self.root / name for name in ("dovecot.out", "dovecot.log")]
        text = "".join(log.read_text(errors="replace") for log in logs if log.exists())
        return "\n".join(text.splitlines()[-lines:])

    def run_doveadm(self, *args: str) -> str:
        command = [self.doveadm, "-c", str(self.config), *args]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"doveadm {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout


class DovecotServer(ImapTestServer):
    """A fresh Dovecot user (empty Maildir) on the session's Dovecot."""

    kind = "dovecot"

    def __init__(self, dovecot: _Dovecot) -> None:
        dovecot.start()  # in case the previous test left it stopped
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
        for start in range(0, len(messages), 1000):  # short lock holds: syncs see prefixes
            with self._uidlist_lock(path):
                for raw in messages[start : start + 1000]:
                    raw = bytes(raw)
                    vsize = len(raw) + raw.count(b"\n") - raw.count(b"\r\n")  # served as CRLF
                    name = f"{self._dovecot.next_name()},S={len(raw)},W={vsize}"
                    staged = path / "tmp" / name
                    staged.write_bytes(raw)
                    self._dovecot.own(staged)
                    os.rename(staged, path / "new" / name)

    def reset_uidvalidity(self, folder: str = "INBOX") -> None:
        doveadm, user = self._dovecot.run_doveadm, self.username
        status = doveadm("mailbox", "status", "-u", user, "uidvalidity", folder)
        current = int(status.strip().rpartition("uidvalidity=")[2])
        doveadm("mailbox", "update", "-u", user, "--uid-validity", str(current % 2**32 + 1), folder)

    def stop(self) -> None:
        self._dovecot.stop()

    def start(self) -> None:
        self._dovecot.start()

    def close(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


# --- fixtures --------------------------------------------------------------------------------


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
