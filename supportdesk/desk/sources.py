"""Is the configured local mailbox (a Maildir or an mbox file) where config.toml says? Asked
before every local fetch and by `supportdesk db check`."""

from __future__ import annotations

from pathlib import Path

from supportdesk.config import Settings
from supportdesk.errors import MailServerError
from supportdesk.store.maintenance import Check

FIX = "fix mailbox.path (or mailbox.kind) in config.toml"


def local_source_problem(kind: str, path: Path) -> str | None:
    """What is wrong with `path` as a local mailbox of `kind`, in one line; None when usable."""
    where = f"mailbox.path {path}"
    if kind == "maildir":
        if not path.exists():
            return f"{where}: no such folder; {FIX}"
        if not path.is_dir():
            return f"{where} is a file, not a Maildir folder; {FIX}"
        missing = [sub for sub in ("cur", "new") if not (path / sub).is_dir()]
        if missing:
            return f"{where} is not a Maildir (no {' or '.join(missing)}/ inside); {FIX}"
        return None
    if not path.exists():
        return f"{where}: no such file; {FIX}"
    if path.is_dir():
        return f"{where} is a folder, not an mbox file; {FIX}"
    try:
        with path.open("rb") as f:
            head = f.read(5)
    except OSError as exc:
        return f"{where} cannot be read ({exc.strerror}); check its permissions"
    if head and head != b"From ":
        return f'{where} is not an mbox file (it does not start with "From "); {FIX}'
    return None


def local_source(settings: Settings) -> Path:
    """The configured Maildir or mbox file, or a one-line MailServerError saying what to fix."""
    box = settings.mailbox
    path = settings.resolve(box.path or "")
    problem = local_source_problem(box.kind, path)
    if problem:
        raise MailServerError(problem)
    return path


def mailbox_check(settings: Settings) -> Check | None:
    """`db check`'s line for a local mailbox (None for IMAP or no mailbox: nothing local)."""
    box = settings.mailbox
    if box.kind not in ("maildir", "mbox"):
        return None
    path = settings.resolve(box.path or "")
    problem = local_source_problem(box.kind, path)
    if problem:
        return Check("mailbox", "fail", problem)
    return Check("mailbox", "ok", f"{box.kind} {path}")
