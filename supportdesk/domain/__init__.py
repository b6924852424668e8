"""The desk's vocabulary, in the standard library only: the status, reason, kind, role and scope
enums, the plain records the desk hands out, and text made safe to show. Every layer may import
it; it imports nothing of SupportDesk but `supportdesk.errors`."""

from supportdesk.domain.enums import (
    CLOSE_REASONS,
    ON_STACK,
    OPEN_ITEM_STATUSES,
    PUSH_REASONS,
    SHIPPED,
    CloseReason,
    Direction,
    ItemKind,
    ItemStatus,
    Reason,
    RequestStatus,
    Role,
    TemplateScope,
)
from supportdesk.domain.records import (
    AgentRecord,
    AttachmentRecord,
    DraftRecord,
    ItemRecord,
    MessageRecord,
    RequestRecord,
    TemplateRecord,
    iso,
)
from supportdesk.domain.text import clean_line, clean_text, display_safe, strip_invisible

__all__ = [
    "CLOSE_REASONS",
    "ON_STACK",
    "OPEN_ITEM_STATUSES",
    "PUSH_REASONS",
    "SHIPPED",
    "AgentRecord",
    "AttachmentRecord",
    "CloseReason",
    "Direction",
    "DraftRecord",
    "ItemKind",
    "ItemRecord",
    "ItemStatus",
    "MessageRecord",
    "Reason",
    "RequestRecord",
    "RequestStatus",
    "Role",
    "TemplateRecord",
    "TemplateScope",
    "clean_line",
    "clean_text",
    "display_safe",
    "iso",
    "strip_invisible",
]
