"""The Textual console. Nothing here is imported by headless commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from supportdesk.ui.app import SupportDeskApp

__all__ = ["make_app"]


def make_app(*args: Any, **kwargs: Any) -> SupportDeskApp:
    """The console app; the one factory the CLI and the tests use."""
    from supportdesk.ui.app import make_app as factory

    return factory(*args, **kwargs)
