"""supportdesk.domain: the desk's words and records, in the standard library only (fast: no
database, no servers)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

from supportdesk.domain import (
    CLOSE_REASONS,
    ON_STACK,
    OPEN_ITEM_STATUSES,
    PUSH_REASONS,
    SHIPPED,
    AgentRecord,
    AttachmentRecord,
    CloseReason,
    DraftRecord,
    ItemKind,
    ItemRecord,
    ItemStatus,
    MessageRecord,
    Reason,
    RequestRecord,
    RequestStatus,
    Role,
    TemplateRecord,
    TemplateScope,
    display_safe,
)

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_enums_are_their_strings_in_json_in_text_and_in_comparisons() -> None:
    data = {"status": RequestStatus.WAITING, "kind": ItemKind.STORY, "role": Role.ADMIN}
    assert json.dumps(data) == '{"status": "waiting", "kind": "story", "role": "admin"}'
    assert f"{ItemStatus.IN_PROGRESS} / {CloseReason.NO_REPLY}" == "in_progress / no_reply"
    assert str(TemplateScope.PERSONAL) == "personal"
    assert RequestStatus("linked") is RequestStatus.LINKED  # what the database gives back
    assert "open" in ON_STACK and "waiting" not in ON_STACK
    assert ", ".join(ItemKind) == "bug, idea, story"


def test_the_fixed_sets_keep_the_words_the_database_and_scripts_already_use() -> None:
    assert list(RequestStatus) == ["new", "open", "waiting", "linked", "review", "closed"]
    assert list(ItemStatus) == ["open", "in_progress", "fixed", "done", "wont_do"]
    assert OPEN_ITEM_STATUSES == ("open", "in_progress") and SHIPPED == ("fixed", "done")
    assert list(Role) == ["agent", "admin"]
    assert list(TemplateScope) == ["system", "team", "personal"]
    # an agent closes with these; `imported` is only for history brought in by `import`
    assert CLOSE_REASONS == ("resolved", "no_reply", "idea", "spam", "duplicate", "other")
    assert CloseReason.IMPORTED not in CLOSE_REASONS
    assert Reason.CUSTOMER_REPLY in PUSH_REASONS and Reason.ANSWERED not in PUSH_REASONS


def _request(**changes: object) -> RequestRecord:
    values: dict[str, object] = dict(
        number=7,
        status="open",
        reason="customer_reply",
        subject="Refund",
        customer_email="ann@example.com",
        customer_name="Ann",
        customer_id=3,
        priority="normal",
        language="en",
        reminder_count=0,
        claimed_by=None,
        claimed_until=None,
        assignee=None,
        created_at=WHEN,
        pushed_at=WHEN,
        updated_at=WHEN,
        first_response_at=None,
        closed_at=None,
        close_reason=None,
        message_count=2,
        inbound_count=2,
    )
    values.update(changes)
    return RequestRecord(**values)  # type: ignore[arg-type]


def test_a_request_as_json_names_its_customer_and_gives_times_in_iso() -> None:
    data = json.loads(json.dumps(_request(tags=["billing"]).as_dict()))
    assert data["customer"] == {"email": "ann@example.com", "name": "Ann"}
    assert data["created_at"] == "2026-01-05T09:00:00+00:00"
    assert data["first_response_at"] is None
    assert data["tags"] == ["billing"] and data["status"] == "open"


def test_a_message_as_json_lists_its_recipients_and_attachments() -> None:
    message = MessageRecord(
        pk=1,
        request_id=7,
        message_id="<a@example.com>",
        direction="in",
        kind="customer",
        status="received",
        from_addr="ann@example.com",
        from_name="Ann",
        to_addrs="support@example.com, sales@example.com",
        subject="Refund",
        text="Hello",
        date=None,
        received_at=WHEN,
        warnings=[],
        automatic=None,
        agent_login=None,
        attempts=0,
        sent_at=None,
        last_error=None,
        in_reply_to=None,
        cc_addrs="bob@example.com, ",
        attachments=[AttachmentRecord(4, "invoice.pdf", "application/pdf", 1200, False)],
    )
    data = message.as_dict()
    assert data["to"] == ["support@example.com", "sales@example.com"]
    assert data["cc"] == ["bob@example.com"]
    assert data["date"] == "2026-01-05T09:00:00+00:00"  # no Date header: when it arrived
    assert data["attachments"] == [
        {
            "id": 4,
            "filename": "invoice.pdf",
            "content_type": "application/pdf",
            "size": 1200,
            "inline": False,
        }
    ]


def test_an_item_knows_its_label_whether_it_is_open_and_what_templates_see() -> None:
    item = ItemRecord(
        3, "bug", "Export fails", "", "in_progress", ["sup"], None, "ann", WHEN, None, None
    )
    assert item.label == "bug #3" and item.is_open
    assert item.context() == {
        "kind": "bug",
        "number": 3,
        "title": "Export fails",
        "status": "in_progress",
        "ref": "",
    }
    item.status = ItemStatus.FIXED
    assert not item.is_open and item.as_dict()["status"] == "fixed"


def test_templates_agents_and_drafts_as_json() -> None:
    template = TemplateRecord(
        1, "refund", "en", "personal", "ann", None, ("billing",), "", "Hi", WHEN, WHEN, 2, None
    )
    assert template.label == "'refund' (personal of ann, en)"
    assert "body" not in template.as_dict(body=False) and template.as_dict()["body"] == "Hi"
    assert template.as_dict()["tags"] == ["billing"]
    agent = AgentRecord("ann", "Ann", "ann@example.com", "admin", True, "--\nAnn", ["en", "ru"])
    assert agent.as_dict() == {
        "login": "ann",
        "name": "Ann",
        "email": "ann@example.com",
        "role": "admin",
        "active": True,
        "languages": ["en", "ru"],
        "line": 1,
        "trainee": False,
        "mentor": None,
    }
    draft = DraftRecord(7, "ann", "Dear Ann", None, WHEN)
    assert draft.as_dict()["updated_at"] == "2026-01-05T09:00:00+00:00"


def test_display_safe_makes_customer_text_inert() -> None:
    assert display_safe("Hi\x1b[31m red\x1b]8;;http://x\x07link\u202e\u200b!") == "Hi redlink!"


def test_domain_loads_only_the_standard_library() -> None:
    code = "import json, sys, supportdesk.domain; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    ours = {m for m in loaded if m.startswith("supportdesk.")}
    assert ours <= {"supportdesk.domain", "supportdesk.errors"} | {
        m for m in ours if m.startswith("supportdesk.domain.")
    }
    for heavy in ("sqlalchemy", "sqlmodel", "pydantic", "jinja2", "textual", "typer", "rich"):
        assert heavy not in loaded
