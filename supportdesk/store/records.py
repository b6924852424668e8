"""Plain records handed out by the store, so no caller holds a database session. They are
defined in `supportdesk.domain.records` (the console and the CLI name them from there)."""

from __future__ import annotations

import json

from supportdesk.domain.records import (
    AttachmentRecord,
    MessageRecord,
    RequestRecord,
    _iso,
)

__all__ = ["AttachmentRecord", "MessageRecord", "RequestRecord", "_iso", "load_warnings"]


def load_warnings(value: str | None) -> list[str]:
    if not value:
        return []
    try:
        loaded = json.loads(value)
    except ValueError:
        return [value]
    return [str(w) for w in loaded] if isinstance(loaded, list) else [str(loaded)]
