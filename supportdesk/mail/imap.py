"""A thin, synchronous IMAP client over imapclient: pure transport, no knowledge of requests.

Every network, TLS, protocol or login failure surfaces as one-line ``MailServerError``
("host:port: cause"). Reads are batched: one ``UID FETCH n:*`` lists everything newer than a
checkpoint, one ``UID FETCH <uid-set> (BODY.PEEK[])`` pulls a whole batch of raw messages.
"""

from __future__ import annotations

import imaplib
import logging
import re
import selectors
import socket
import ssl
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.response_parser import parse_fetch_response

from supportdesk.errors import ConfigError, MailServerError

__all__ = ["FolderState", "ImapMailbox", "plan_batches"]

_SECURITY = ("tls", "starttls", "none")
_MAX_UIDSET_CHARS = 8000  # keeps command lines far below servers' limits (Dovecot: 64 KiB)
_UID_RE = re.compile(rb"\bUID (\d+)")
_BODY_HEAD = re.compile(rb"^\d+ \(.*\bBODY\[\] \{\d+\}$", re.S)
_SIZE_RE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_NOISE = re.compile(r"^(?:\w+ failed: |command: \w+ => )", re.I)  # imaplib's own prefixes
_BYTES_REPR = re.compile(r"""^b(['"])(.*)\1$""", re.S)


@dataclass(frozen=True)
class FolderState:
    """What SELECT said about a folder."""

    uidvalidity: int
    uidnext: int | None
    exists: int


class ImapMailbox:
    """One connection. Use as a context manager."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str,  # "tls" | "starttls" | "none"
        username: str,
        password: str | None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """`password` None logs in nowhere (the server must PREAUTH); `timeout` is per read."""
        if security not in _SECURITY:
            raise ConfigError(f"IMAP security must be one of {', '.join(_SECURITY)}: {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username, self._password = username, password
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._client: IMAPClient | None = None
        self._broken = False
        self._folder: str | None = None
        self._state: FolderState | None = None
        self._readonly = True
        self._news = False
        self._use_move = False
        self._known_folders: set[str] = set()
        self._listed: dict[tuple[str, int], int] = {}  # highest uid listed per folder state

    def __enter__(self) -> ImapMailbox:
        """Connect (TLS / STARTTLS as configured) and log in."""
        try:
            with self._errors("connect"):
                context = self._ssl_context or ssl.create_default_context()
                tls = self.security == "tls"
                self._client = client = IMAPClient(
                    self.host,
                    self.port,
                    ssl=tls,
                    ssl_context=context if tls else None,
                    timeout=self.timeout,
                )
                if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
                    # imapclient turns imaplib's debug output on; its formatting alone (a repr
                    # of every response, literals included) costs more than the whole download.
                    client._imap.debug = 0
                if self.security == "starttls":
                    client.starttls(context)
                if self._password is not None:
                    client.login(self.username, self._password)
                elif client._imap.state != "AUTH":  # no password: only a PREAUTH server will do
                    raise LoginError("no password configured")
                self._use_move = bool(client.has_capability("MOVE"))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Log out; never raises."""
        self.close()

    def close(self) -> None:
        """Log out and drop the connection; never raises."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if self._broken:
                client.shutdown()
            else:
                client.logout()
        except Exception:
            with suppress(Exception):
                client.shutdown()

    @property
    def has_idle(self) -> bool:
        """True when the server announced IDLE."""
        with self._errors("CAPABILITY"):
            return bool(self._conn().has_capability("IDLE"))

    def select(self, folder: str, readonly: bool = True) -> FolderState:
        """Select `folder` (EXAMINE when readonly) and return its UIDVALIDITY/UIDNEXT/EXISTS."""
        with self._errors(f"select {folder}"):
            info = self._conn().select_folder(folder, readonly=readonly)
        self._folder, self._readonly = folder, readonly
        if b"UIDVALIDITY" not in info:
            raise MailServerError(f"{self.host}:{self.port}: {folder} has no UIDVALIDITY")
        self._state = FolderState(
            uidvalidity=int(info[b"UIDVALIDITY"]),
            uidnext=int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None,
            exists=int(info.get(b"EXISTS", 0)),
        )
        self._drain_untagged()
        # News is mail the caller has not listed: the SELECT itself is not news, but a UIDNEXT
        # past what new_messages() returned since this folder was first selected is.
        key = (folder, self._state.uidvalidity)
        uidnext = self._state.uidnext
        self._news = bool(uidnext and key in self._listed and uidnext - 1 > self._listed[key])
        if uidnext and key not in self._listed:
            self._listed[key] = uidnext - 1
        return self._state

    def new_messages(self, after_uid: int) -> list[tuple[int, int]]:
        """[(uid, rfc822_size)] of messages with UID > after_uid, sorted by uid (one command)."""
        self._selected()
        with self._errors("fetch sizes"):
            data = self._uid_fetch(f"{after_uid + 1}:*", "(UID RFC822.SIZE)")
        found: dict[int, int] = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, size = _UID_RE.search(line), _SIZE_RE.search(line)
            # "UID n:*" always matches the last message, even when its uid is below n.
            if uid and size and int(uid.group(1)) > after_uid:
                found[int(uid.group(1))] = int(size.group(1))
        if found:
            key = (self._folder or "", self._state.uidvalidity if self._state else 0)
            self._listed[key] = max(self._listed.get(key, 0), *found)
        return sorted(found.items())

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        """Raw bytes (BODY.PEEK[], so \\Seen is left alone) of `uids`; expunged ones are absent."""
        self._selected()
        wanted = set(uids)
        out: dict[int, bytes] = {}
        for uidset in _uid_sets(wanted):
            with self._errors("fetch"):
                data = self._uid_fetch(uidset, "(BODY.PEEK[])")
                bodies = _quick_bodies(data)
                if bodies is None:  # an unusual response shape: let imapclient parse it
                    parsed = parse_fetch_response(data, False, True)
                    bodies = {uid: item.get(b"BODY[]") for uid, item in parsed.items()}
            for uid, body in bodies.items():
                if uid in wanted and isinstance(body, bytes):
                    out[uid] = body
        return out

    def wait_for_news(self, timeout: float) -> bool:
        """Wait up to `timeout` s for mail not yet listed by new_messages(); True once there is.

        Uses IDLE; a server without IDLE gets one NOOP and no waiting. A True may be spurious
        (the caller just looks again); False means the time ran out. The connection stays usable.
        """
        client = self._selected()
        with self._errors("NOOP"):
            client.noop()
        if self._take_news():
            return True
        if timeout <= 0 or not self.has_idle:
            return False
        # Not IMAPClient.idle_check(): it reads lines from a non-blocking socket and fails on
        # a line split across packets (mjs/imapclient#519). Whole responses are read here.
        deadline = time.monotonic() + timeout
        imap = client._imap
        idling = True
        try:
            with self._errors("IDLE"):
                client.idle()
                tag = client._idle_tag
                while not self._news and imap.tagged_commands.get(tag) is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    if self._readable(remaining):
                        imap._get_response()  # untagged responses land in imaplib's stash
                        imap._check_bye()
                        self._drain_untagged()
                if imap.tagged_commands.get(tag) is None:  # the server may end IDLE itself
                    imap.send(b"DONE\r\n")
                    while imap.tagged_commands.get(tag) is None:
                        imap._get_response()
                idling = False
                typ, data = imap.tagged_commands.pop(tag)
                if typ != "OK":
                    raise IMAPClientError(f"IDLE failed: {_clean(data[0] if data else typ)}")
        finally:
            self._broken = self._broken or idling  # the server may still think we are idling
        return self._take_news()

    def mark_seen(self, uids: Sequence[int]) -> None:
        """Set \\Seen on `uids` (a read-only selection is re-selected read-write first)."""
        if not uids:
            return
        client = self._writable()
        for uidset in _uid_sets(uids):
            with self._errors("store"):
                client.add_flags(uidset, [b"\\Seen"], silent=True)

    def move(self, uids: Sequence[int], folder: str) -> None:
        """Move `uids` to `folder` (created if missing): MOVE, else COPY + \\Deleted + expunge.

        The expunge is UID EXPUNGE; a server without UIDPLUS gets a plain EXPUNGE.
        """
        if not uids:
            return
        client = self._writable()
        self._ensure_folder(folder)
        for uidset in _uid_sets(uids):
            with self._errors(f"move to {folder}"):
                if self._use_move:
                    client.move(uidset, folder)
                    continue
                client.copy(uidset, folder)
                client.add_flags(uidset, [b"\\Deleted"], silent=True)
                if client.has_capability("UIDPLUS"):
                    client.uid_expunge(uidset)
                else:
                    client.expunge()

    def append(self, folder: str, raw: bytes, flags: Sequence[str] = (r"\Seen",)) -> None:
        """APPEND `raw` to `folder` (created if missing), e.g. a copy of a reply in Sent."""
        self._ensure_folder(folder)
        with self._errors(f"append to {folder}"):
            self._conn().append(folder, raw, flags=tuple(flags))

    def _conn(self) -> IMAPClient:
        if self._client is None:
            raise MailServerError(f"{self.host}:{self.port}: not connected")
        return self._client

    def _selected(self) -> IMAPClient:
        client = self._conn()
        if self._folder is None:
            raise MailServerError(f"{self.host}:{self.port}: no folder selected")
        return client

    def _writable(self) -> IMAPClient:
        client = self._selected()
        if self._readonly:
            assert self._folder is not None and self._state is not None
            before, pending = self._state, self._take_news()
            after = self.select(self._folder, readonly=False)
            if after.uidvalidity != before.uidvalidity:
                raise MailServerError(
                    f"{self.host}:{self.port}: UIDVALIDITY of {self._folder} changed"
                )
            self._news = self._news or pending
        return client

    def _ensure_folder(self, folder: str) -> None:
        if folder in self._known_folders:
            return
        client = self._conn()
        with self._errors(f"create {folder}"):
            if not client.folder_exists(folder):
                try:
                    client.create_folder(folder)
                except IMAPClientError:
                    if not client.folder_exists(folder):  # lost a race with another client: fine
                        raise
        self._known_folders.add(folder)

    def _uid_fetch(self, uidset: str, items: str) -> list[Any]:
        # IMAPClient.fetch() only takes explicit uid lists; this is its own code path for a
        # compact uid-set ("1:500", "7:*") and raw untagged data.
        imap = self._conn()._imap
        tag = imap._command("UID", "FETCH", uidset, items)
        typ, data = imap._command_complete("FETCH", tag)
        if typ != "OK":
            raise IMAPClientError(f"FETCH failed: {_clean(data[0] if data else typ)}")
        _typ, data = imap._untagged_response(typ, data, "FETCH")
        return [d for d in data if d is not None]

    def _drain_untagged(self) -> None:
        stash = self._conn()._imap.untagged_responses
        if stash.pop("EXISTS", None):
            self._news = True
        for key in ("RECENT", "EXPUNGE", "FETCH", "OK"):
            stash.pop(key, None)

    def _take_news(self) -> bool:
        self._drain_untagged()
        news, self._news = self._news, False
        return news

    def _readable(self, timeout: float) -> bool:
        """Whether a response is waiting, in imaplib's buffer or on the socket, within timeout."""
        imap = self._conn()._imap
        peek = getattr(imap.file, "peek", None)
        if peek is not None:
            imap.sock.setblocking(False)
            try:
                if peek(1):
                    return True
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
            finally:
                imap.sock.settimeout(self.timeout)
        with selectors.DefaultSelector() as selector:
            selector.register(imap.sock, selectors.EVENT_READ)
            return bool(selector.select(timeout))

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except MailServerError:
            raise
        except (OSError, imaplib.IMAP4.error, EOFError) as exc:  # incl. socket/TLS errors
            fatal = isinstance(exc, OSError | imaplib.IMAP4.abort | EOFError)
            self._broken = self._broken or fatal
            raise MailServerError(f"{self.host}:{self.port}: {_describe(action, exc)}") from exc


def _quick_bodies(data: list[Any]) -> dict[int, bytes] | None:
    """{uid: body} from "n (UID u BODY[] {size}" + literal items; None for any other shape."""
    out: dict[int, bytes] = {}
    for i, item in enumerate(data):
        if not isinstance(item, tuple):
            continue  # the ")" closing a message, or a literal-free (unsolicited) FETCH
        head, body = item
        if not _BODY_HEAD.search(head):
            return None
        uid = _UID_RE.search(head)
        if uid is None and i + 1 < len(data) and isinstance(data[i + 1], bytes):
            uid = _UID_RE.search(data[i + 1])  # "BODY[] {n}" came before "UID u"
        if uid is None:
            return None
        out[int(uid.group(1))] = body
    return out


def _clean(message: object) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    match = _BYTES_REPR.match(text.strip())
    if match:
        text = match.group(2)
    return " ".join(text.split())


def _describe(action: str, exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host name ({exc.strerror})"
    if isinstance(exc, TimeoutError):
        return f"{action}: timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or _clean(exc)}"
    if isinstance(exc, LoginError):
        return f"login failed: {_clean(exc) or 'rejected'}"
    if isinstance(exc, imaplib.IMAP4.abort | EOFError):
        return f"connection lost during {action}: {_NOISE.sub('', _clean(exc)) or 'EOF'}"
    if isinstance(exc, OSError):
        return f"{action}: {exc.strerror or _clean(exc)}"
    return f"{action} failed: {_NOISE.sub('', _clean(exc))}"


def _uid_sets(uids: Iterable[int]) -> list[str]:
    """Compact uid-sets ("1:500,502") for `uids`, split so no command line gets long."""
    out: list[str] = []
    parts: list[str] = []
    length = 0
    for _, run in groupby(enumerate(sorted(set(uids))), lambda pair: pair[1] - pair[0]):
        first, *rest = (uid for _, uid in run)
        part = f"{first}:{rest[-1]}" if rest else str(first)
        if parts and length + len(part) > _MAX_UIDSET_CHARS:
            out.append(",".join(parts))
            parts, length = [], 0
        parts.append(part)
        length += len(part) + 1
    if parts:
        out.append(",".join(parts))
    return out


def plan_batches(
    sizes: Sequence[tuple[int, int]], max_bytes: int, max_count: int = 1000
) -> list[list[int]]:
    """Group (uid, size) in order into uid batches of at most max_bytes and max_count.

    A message larger than max_bytes gets a batch of its own.
    """
    if max_bytes <= 0 or max_count <= 0:
        raise ValueError("max_bytes and max_count must be positive")
    batches: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid, size in sizes:
        if current and (total + size > max_bytes or len(current) >= max_count):
            batches.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    if current:
        batches.append(current)
    return batches
