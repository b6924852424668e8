"""What every desk service shares: the settings, the database and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from supportdesk.clock import Clock
from supportdesk.config import Settings
from supportdesk.store.database import Database


@dataclass(slots=True)
class DeskContext:
    """One configuration, one database, one clock (tests move a FrozenClock)."""

    settings: Settings
    db: Database
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()
