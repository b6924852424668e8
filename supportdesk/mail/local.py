"""Local mail sources: a Maildir, an mbox file, or a folder of .eml files, as (key, bytes)."""

from __future__ import annotations

import mailbox
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from supportdesk.errors import SupportDeskError

HEAD_BYTES = 65536
"""How much of a file `looks_like_message` reads."""

_FIELD = re.compile(rb"([!-9;-~]+)[ \t]*:")
"""A header field's name (printable ASCII but the colon, RFC 5322 section 2.2) and its colon."""

MESSAGE_FIELDS = frozenset(
    name.encode()
    for name in (
        "from", "sender", "reply-to", "to", "cc", "date", "message-id", "subject",
        "received", "return-path", "delivered-to", "in-reply-to", "references", "mime-version",
    )
)  # fmt: skip
"""Fields of a message, not of a MIME part on its own (which has Content-* only)."""


def looks_like_message(head: bytes) -> bool:
    """Whether a file that starts with `head` is an email message (RFC 5322): it opens with
    header fields (after an mbox "From " line, if any), and among them, before the blank line
    that ends them (or the end of the file), a message's own field: From, Date, Message-ID,
    Subject, Received, To and the like. A line that is not a field is tolerated after two
    fields (broken mail is still mail). Not mail: a README, a .txt, a PNG, a MIME part."""
    lines = head.removeprefix(b"\xef\xbb\xbf").splitlines()
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    fields = 0
    found = False
    for line in lines:
        if not line.strip():
            return found
        if line[:1] in (b" ", b"\t"):
            if not fields:
                return False  # a continuation of nothing
            continue
        match = _FIELD.match(line)
        if match is None:
            return found and fields >= 2
        fields += 1
        found = found or match.group(1).lower() in MESSAGE_FIELDS
    return found


def not_mail(path: Path, what: str = "a file") -> str:
    """The one line refusing `path` as mail."""
    return (
        f"{path} is {what} that is not mail: expected an mbox, a Maildir or an email message "
        "(RFC 5322 headers such as From, Date, Subject); nothing imported"
    )


def detect_kind(path: Path) -> str:
    """'maildir', 'mbox', 'eml' (one message) or 'folder' (of message files); a one-line
    SupportDeskError naming the file when it is none of these."""
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            return "maildir"
        return "folder"
    if not path.exists():
        raise SupportDeskError(f"{path}: no such file or folder")
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    if head.startswith(b"From "):
        return "mbox"
    if not head:
        raise SupportDeskError(not_mail(path, "an empty file"))
    if not looks_like_message(head):
        raise SupportDeskError(not_mail(path))
    return "eml"


def read_messages(
    path: Path, skipped: Callable[[Path], None] | None = None
) -> Iterator[tuple[str, bytes]]:
    """Every message under `path` as (a stable key, raw bytes), in a stable order. In a folder
    of files, those that are not mail are passed to `skipped` instead (a Maildir's files are
    all taken: a mail server put them there)."""
    kind = detect_kind(path)
    if kind == "maildir":
        yield from _maildir(path)
    elif kind == "mbox":
        yield from _mbox(path)
    elif kind == "eml":
        yield str(path), path.read_bytes()
    else:
        for file in sorted(_walk_files(path)):
            data = file.read_bytes()
            if looks_like_message(data[:HEAD_BYTES]):
                yield str(file), data
            elif skipped is not None:
                skipped(file)


def count_messages(path: Path) -> int | None:
    """How many messages `read_messages` will yield (None when counting costs a full read)."""
    kind = detect_kind(path)
    if kind == "maildir":
        return sum(len(os.listdir(path / sub)) for sub in ("new", "cur"))
    if kind == "eml":
        return 1
    if kind == "folder":
        return sum(1 for _ in _walk_files(path))
    return None


def _walk_files(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith("."):  # .DS_Store, an editor's swap file
                continue
            yield Path(root) / name


def _maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    for sub in ("new", "cur"):
        folder = path / sub
        for name in sorted(os.listdir(folder)):
            file = folder / name
            try:
                data = file.read_bytes()
            except FileNotFoundError:  # moved between listing and reading by the MDA
                continue
            yield name.split(":")[0], data


def read_mbox(path: Path) -> Iterator[bytes]:
    """Every message of an mbox file in order (an empty file has none)."""
    for _key, raw in _mbox(path):
        yield raw


def _mbox(path: Path) -> Iterator[tuple[str, bytes]]:
    box = mailbox.mbox(str(path), create=False)
    try:
        for key in box.iterkeys():
            yield f"{path}#{key}", box.get_bytes(key, from_=False)
    finally:
        box.close()
