"""`supportdesk reviews quality|score`: the quality review of a sample of sent answers."""

from __future__ import annotations

from supportdesk.cli.reviewcmds import reviews_app  # noqa: F401 - the group these join
