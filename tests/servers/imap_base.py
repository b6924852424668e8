"""The shared shape of the IMAP test servers: ImapTestServer, HOST and the account password."""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress

from imapclient import IMAPClient

HOST = "127.0.0.1"
PASSWORD = "secret"


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
