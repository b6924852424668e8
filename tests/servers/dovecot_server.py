"""Dovecot as a subprocess: one ``dovecot -F`` per session, a new Maildir user per server."""

from __future__ import annotations

import ctypes
import grp
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.servers.imap_base import HOST, PASSWORD, ImapTestServer

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
