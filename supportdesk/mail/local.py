"""Local mail sources: a Maildir, an mbox file, or a folder of .eml files, as (key, bytes)."""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from pathlib import Path

from supportdesk.errors import SupportDeskError


def detect_kind(path: Path) -> str:
    """'maildir', 'mbox', 'eml' (one file) or 'folder' (of .eml files)."""
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            return "maildir"
        return "folder"
    if not path.exists():
        raise SupportDeskError(f"{path}: no such file or folder")
    with path.open("rb") as f:
        head = f.read(5)
    return "mbox" if head == b"From " else "eml"


def read_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """Every message under `path` as (a stable key, raw bytes), in a stable order."""
    kind = detect_kind(path)
    if kind == "maildir":
        yield from _maildir(path)
    elif kind == "mbox":
        yield from _mbox(path)
    elif kind == "eml":
        yield str(path), path.read_bytes()
    else:
        for file in sorted(_walk_files(path)):
            yield str(file), file.read_bytes()


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
            if name.startswith(".") or name.lower() in ("sources.md", "readme", "readme.md"):
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
