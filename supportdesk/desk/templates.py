"""Templates at work: which one an agent gets by a name, the context it renders with, and
importing/exporting the files.

Precedence by name: the agent's personal template, else the team's, else the system one; of
the winner's language variants, the request's language, else English, else any.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportdesk.config import Settings
from supportdesk.desk.agents import known_agent
from supportdesk.desk.context import DeskContext
from supportdesk.desk.wording import human_duration
from supportdesk.domain import lifecycle
from supportdesk.domain.records import Suggestion
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.store import templates as store
from supportdesk.store.agents import AgentRecord, get_agent
from supportdesk.store.database import Connection
from supportdesk.store.items import SHIPPED, ItemRecord, get_item
from supportdesk.store.messages import messages_of
from supportdesk.store.records import MessageRecord, RequestRecord
from supportdesk.store.requests import get_request
from supportdesk.store.templates import TemplateRecord
from supportdesk.templating.files import (
    TemplateFile,
    check_language,
    check_name,
    format_template_file,
    parse_template_text,
    read_template_dir,
    write_template_files,
)
from supportdesk.templating.render import RENDER_SECONDS, Fields, Renderer, TemplateError

if TYPE_CHECKING:  # the index loads when an agent first searches
    from supportdesk.templating.search import TemplateIndex

RENDERER = Renderer()
WORKFLOW_SECONDS = 0.05
"""CPU time a workflow template (auto_ack, reminders ...) may take: they render inside the
transaction that stores the mail, and the shipped text is the fall-back when one is slower."""
log = logging.getLogger("supportdesk.templates")
PRECEDENCE = {"personal": 0, "team": 1, "system": 2}
WORKFLOW_TEMPLATES = (
    "auto_ack",
    "reminder_1",
    "reminder_2",
    "closed_no_reply",
    "bug_ack",
    "idea_thanks",
    "fixed_notice",
)
ITEM_TEMPLATES = ("bug_ack", "idea_thanks", "fixed_notice")
"""Templates that speak of a bug, idea or story: they go out only in their flow (converting,
attaching, telling customers of a fix), never without an item."""
ACK_TEMPLATE = {"bug": "bug_ack", "story": "bug_ack", "idea": "idea_thanks"}


class ItemRequired(TemplateError):
    """A template that speaks of an item, for a request linked to none."""

    def __init__(self, name: str) -> None:
        super().__init__(name, "needs a linked item")
        self.args = (f"{name} needs a linked item: use requests convert",)


def offered(name: str, item: ItemRecord | None) -> bool:
    """Whether template `name` is offered for a request linked to `item` (None: to none):
    the acknowledgement of its kind while the item is worked on, fixed_notice once it has
    shipped; every other template always."""
    if name not in ITEM_TEMPLATES:
        return True
    if item is None:
        return False
    if name == "fixed_notice":
        return item.status in SHIPPED
    return item.status not in (*SHIPPED, "wont_do") and ACK_TEMPLATE.get(item.kind) == name


@dataclass(frozen=True, slots=True)
class Rendered:
    template: TemplateRecord
    text: str
    subject: str | None = None


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    names: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}

    def summary(self) -> str:
        return f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged"


# -- files -------------------------------------------------------------------------------


def shipped_dir() -> Path:
    """The templates that come with SupportDesk (system/ and team/)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_templates", package.parent / "templates"):
        if (candidate / "system").is_dir():
            return candidate
    raise SupportDeskError("the shipped templates are missing from this installation")


def desk_dir(settings: Settings) -> Path:
    """The desk's template folder (desk.templates), or the shipped one when it does not exist."""
    own = settings.resolve(settings.desk.templates)
    return own if own.is_dir() else shipped_dir()


def import_folder(
    conn: Connection, folder: Path, now: datetime, *, owner: str | None = None
) -> ImportReport:
    """Import template files. For an agent (`owner`): every file in `folder` becomes personal.
    Otherwise `folder/system` and `folder/team` go to their scopes and files directly in
    `folder` to the team."""
    if not folder.is_dir():
        raise SupportDeskError(f"{folder} is not a folder")
    plan: list[tuple[str, list[TemplateFile]]] = []
    if owner:
        plan.append(("personal", read_template_dir(folder)))
    else:
        for scope in ("system", "team"):
            if (folder / scope).is_dir():
                plan.append((scope, read_template_dir(folder / scope)))
        if any(folder.glob("*.md")):
            plan.append(("team", read_template_dir(folder)))
    if not plan or not any(files for _, files in plan):
        raise SupportDeskError(f"no template files (*.md) in {folder}")
    for _, files in plan:  # check them all before storing any
        for f in files:
            RENDERER.check(f"{f.name!r} ({f.language})", f.body)
    report = ImportReport()
    for scope, files in plan:
        for f in files:
            outcome = save_file(conn, scope, owner or "", f, now)
            setattr(report, outcome, getattr(report, outcome) + 1)
            report.names.append(f.name)
    return report


def export_folder(conn: Connection, folder: Path, *, owner: str | None = None) -> list[Path]:
    """Write templates as files: an agent's personal ones into `folder`, or the team's and
    system ones into `folder/team` and `folder/system`."""
    if owner:
        return write_template_files(
            folder, map(as_file, store.templates_in_scope(conn, "personal", owner))
        )
    written: list[Path] = []
    for scope in ("system", "team"):
        records = store.templates_in_scope(conn, scope)
        if records:
            written += write_template_files(folder / scope, map(as_file, records))
    return written


def as_file(record: TemplateRecord) -> TemplateFile:
    return TemplateFile(
        name=record.name,
        language=record.language,
        body=record.body,
        subject=record.subject,
        tags=record.tags,
        description=record.description,
    )


def file_text(record: TemplateRecord) -> str:
    """The template as its file: TOML front matter and body (`templates show`)."""
    return format_template_file(as_file(record))


def ensure_system_templates(conn: Connection, now: datetime) -> bool:
    """A desk without system templates gets the shipped ones (the workflow needs them)."""
    if store.count_in_scope(conn, "system"):
        return False
    files = read_template_dir(shipped_dir() / "system")
    for f in files:
        save_file(conn, "system", "", f, now)
    return True


def save_file(conn: Connection, scope: str, owner: str, f: TemplateFile, now: datetime) -> str:
    """Store one template file's content; returns 'added', 'updated' or 'unchanged'."""
    return store.save_template(
        conn,
        scope=scope,
        owner=owner,
        name=f.name,
        language=f.language,
        subject=f.subject,
        tags=f.tags,
        description=f.description,
        body=f.body,
        now=now,
    )


# -- choosing ------------------------------------------------------------------------------


def effective(records: Iterable[TemplateRecord], agent: str | None) -> list[TemplateRecord]:
    """What an agent sees: per name, the variants of the most personal scope only."""
    best: dict[str, int] = {}
    candidates = [r for r in records if r.scope != "personal" or r.owner == agent]
    for r in candidates:
        rank = PRECEDENCE.get(r.scope, 3)
        best[r.name] = min(best.get(r.name, rank), rank)
    return [r for r in candidates if PRECEDENCE.get(r.scope, 3) == best[r.name]]


def pick_language(variants: Iterable[TemplateRecord], language: str | None) -> TemplateRecord:
    ordered = sorted(
        variants, key=lambda r: (r.language != language, r.language != "en", r.language)
    )
    if not ordered:
        raise NotFoundError("no such template")
    return ordered[0]


def resolve(conn: Connection, name: str, agent: str | None, language: str | None) -> TemplateRecord:
    variants = effective(store.templates_named(conn, name, agent), agent)
    if not variants:
        raise NotFoundError(f"no template named {name!r}" + _did_you_mean(conn, name, agent))
    return pick_language(variants, language)


def _did_you_mean(conn: Connection, name: str, agent: str | None) -> str:
    from supportdesk.templating.search import TemplateIndex

    docs = to_docs(effective(store.visible_templates(conn, agent), agent))
    hits = TemplateIndex(docs).search(name, limit=3)
    return f" (did you mean {', '.join(h.doc.name for h in hits)}?)" if hits else ""


def workflow_variants(conn: Connection, name: str) -> list[TemplateRecord]:
    """A system template's variants, a team override of the same name first."""
    records = [r for r in store.templates_named(conn, name, None) if r.scope in ("team", "system")]
    return sorted(records, key=lambda r: PRECEDENCE[r.scope])


def shipped_variants(name: str) -> list[TemplateRecord]:
    """The shipped system template `name`'s variants, from the files (for a desk whose stored
    system templates predate it)."""
    return [r for r in _shipped_system() if r.name == name]


@functools.cache
def _shipped_system() -> tuple[TemplateRecord, ...]:
    files = read_template_dir(shipped_dir() / "system")
    return tuple(
        TemplateRecord(
            0,
            f.name,
            f.language,
            "system",
            "",
            f.subject,
            tuple(f.tags),
            f.description,
            f.body,
            None,
            None,
            0,
            None,
        )
        for f in files
    )


def to_docs(records: Iterable[TemplateRecord]) -> list[Any]:
    from supportdesk.templating.search import TemplateDoc

    return [
        TemplateDoc(
            key=r.id,
            name=r.name,
            language=r.language,
            scope=r.scope,
            tags=r.tags,
            description=r.description,
            body=r.body,
        )
        for r in records
    ]


def customer_text(last: MessageRecord | None, fallback: str) -> str:
    """What suggestions match against: the latest customer message, or the request's subject."""
    return f"{last.subject}\n{last.text}" if last else fallback


EARLIER_MESSAGES = 3
"""Suggestions read this many of the customer's messages before the latest."""


def customer_parts(
    request: RequestRecord, conversation: list[MessageRecord]
) -> list[tuple[str, float]]:
    """What suggestions read of a request, each with its weight: the customer's latest message
    most, then the subject (the request's, and the latest message's if it differs), then a
    few earlier messages of theirs (robots' mail only when there is nothing else)."""
    from supportdesk.textsearch import PART_WEIGHT

    incoming = [m for m in conversation if m.direction == "in"]
    human = [m for m in incoming if m.automatic is None] or incoming
    parts: list[tuple[str, float]] = []
    if human:
        parts.append((human[-1].text, PART_WEIGHT["latest"]))
    subjects = dict.fromkeys(s for s in (request.subject, human[-1].subject if human else "") if s)
    parts += [(subject, PART_WEIGHT["subject"]) for subject in subjects]
    parts += [(m.text, PART_WEIGHT["earlier"]) for m in human[-1 - EARLIER_MESSAGES : -1]]
    return parts


def workflow_suggestion(request: RequestRecord) -> str | None:
    """The system template a request's reason calls for, if any."""
    if request.reason == "follow_up":
        return lifecycle.reminder_template(request.reminder_count + 1)  # the next one
    if request.reason == "fixed":
        return "fixed_notice"
    return None


# -- rendering -----------------------------------------------------------------------------


_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "г-н", "г-жа"}
_NAME_WORD = re.compile(r"^[^\W\d_][\w'’.-]*$")


def first_name(name: str) -> str:
    """'Maria Ivanova' -> 'Maria'; nothing for an address, an empty name or one that is not
    made of words (a greeting to '{{' reads worse than none)."""
    name = name.strip().strip("\"'")
    if not name or "@" in name:
        return ""
    last, comma, given = name.partition(",")  # "Smith, John"
    words = (given if comma and given.strip() else last).split()
    words = [w for w in words if w.lower().rstrip(".") not in _TITLES] or words
    first = words[0] if words else ""
    return first[:60] if _NAME_WORD.match(first) else ""


def context(
    settings: Settings,
    *,
    customer_name: str,
    customer_email: str,
    number: int,
    subject: str,
    created_at: datetime | None,
    language: str,
    agent: AgentRecord | None,
    last_reply: str = "",
    item: Mapping[str, Any] | None = None,
    signature: str | None = None,
) -> dict[str, Any]:
    """Everything a template may use; every name exists, so StrictUndefined means a typo.
    `signature`: the agent's signature for the language (agent_signature), else the old
    agent.signature column, else their name and the desk's."""
    desk_name = settings.desk.name
    agent_name = agent.name if agent and agent.name else desk_name
    signature = (
        signature
        or (agent.signature if agent else "")
        or (f"{agent_name}\n{desk_name}" if agent else desk_name)
    )
    return {
        "customer": Fields(
            "customer",
            {
                "name": customer_name,
                "first_name": first_name(customer_name),
                "email": customer_email,
            },
        ),
        "request": Fields(
            "request",
            {
                "number": number,
                "subject": subject,
                "created_at": created_at.date().isoformat() if created_at else "",
            },
        ),
        "agent": Fields("agent", {"name": agent_name, "signature": signature.rstrip()}),
        "desk": Fields(
            "desk",
            {
                "name": desk_name,
                "address": settings.desk.address,
                "answer_within": human_duration(settings.sla.first_response, language),
                "close_after": human_duration(settings.workflow.follow_up_after, language),
                "csat_two_scores": settings.csat.two_scores,
            },
        ),
        "last_reply": last_reply,
        "item": Fields(
            "item",
            {"kind": "", "number": 0, "title": "", "status": "", "ref": "", **(item or {})},
        ),
    }


def request_context(
    conn: Connection,
    settings: Settings,
    request: RequestRecord,
    agent: AgentRecord | None,
    language: str,
    item: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    from supportdesk.store.items import get_item
    from supportdesk.store.messages import last_outbound

    if item is None and request.item is not None:  # fixed_notice names the linked bug
        linked = get_item(conn, request.item)
        item = linked.context() if linked else None
    from supportdesk.store.signatures import signature_for

    last = last_outbound(conn, request.number)
    signed = signature_for(conn, agent.login, request.language or language) if agent else None
    return context(
        settings,
        signature=signed,
        customer_name=request.customer_name,
        customer_email=request.customer_email,
        number=request.number,
        subject=request.subject,
        created_at=request.created_at,
        language=language,
        agent=agent,
        last_reply=last.text.rstrip() if last else "",
        item=item,
    )


def sample_context(settings: Settings, agent: AgentRecord | None, language: str) -> dict[str, Any]:
    """A made-up request, for previewing a template without one."""
    from datetime import UTC

    name = "Мария Иванова" if language == "ru" else "Maria Smith"
    return context(
        settings,
        customer_name=name,
        customer_email="maria@example.com",
        number=1234,
        subject="Не могу войти" if language == "ru" else "Cannot log in",
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
        language=language,
        agent=agent,
        last_reply="Please try resetting your password from the sign-in page.",
        item={"kind": "bug", "number": 7, "title": "Export fails for large projects"},
    )


def render(
    record: TemplateRecord, values: Mapping[str, Any], *, seconds: float = RENDER_SECONDS
) -> Rendered:
    """Render body (and subject); TemplateError names the template and the line."""
    if record.name in ITEM_TEMPLATES and not _has_item(values):
        raise ItemRequired(record.name)
    text = RENDERER.render(record.label, record.body, values, seconds=seconds)
    subject = None
    if record.subject:
        subject = " ".join(
            RENDERER.render(
                f"{record.label} subject", record.subject, values, seconds=seconds
            ).split()
        )
    if not text.strip():
        raise TemplateError(record.label, "the text is empty after rendering")
    return Rendered(record, text.rstrip() + "\n", subject or None)


def _has_item(values: Mapping[str, Any]) -> bool:
    item = values.get("item")
    try:
        return bool(item is not None and item["number"])
    except (KeyError, TypeError):
        return False


def render_workflow(
    variants: Iterable[TemplateRecord],
    language: str,
    values: Callable[[TemplateRecord], Mapping[str, Any]],
    *,
    seconds: float = WORKFLOW_SECONDS,
    team_seconds: float | None = None,
) -> tuple[Rendered | None, list[str]]:
    """Render a workflow template (auto_ack, reminder_1 …): the team's override first, the
    shipped text when the override fails in any way (an error, a slow or huge template, a
    filter's own exception). Returns the text (None when no variant renders) and the errors
    met on the way, for the caller to record as events; they are logged here too. The team's
    override may take `seconds` of CPU time (`team_seconds`, when given); the shipped text
    the standard RENDER_SECONDS."""
    records = list(variants)
    errors: list[str] = []
    for scope in ("team", "system"):
        group = [r for r in records if r.scope == scope]
        if not group:
            continue
        record = pick_language(group, language)
        try:
            # The shipped text is ours and the last resort: only the standard safety net, so
            # a busy machine never costs a customer the acknowledgement.
            budget = RENDER_SECONDS if scope == "system" else seconds
            if scope == "team" and team_seconds is not None:
                budget = team_seconds
            return render(record, values(record), seconds=budget), errors
        except Exception as exc:  # noqa: BLE001 - nothing a template does may stop the desk
            errors.append(_failure(record, exc))
    return None, errors


def render_or_shipped(
    conn: Connection,
    name: str,
    agent: str | None,
    language: str,
    values: Callable[[TemplateRecord], Mapping[str, Any]],
) -> tuple[Rendered, list[str]]:
    """The template an agent gets by `name` (personal, team, else system). A team override
    that fails in any way falls back to the shipped (system) text, as for automatic mail; the
    errors met are returned for the caller's events. The agent's own (personal) template
    failing is a TemplateError for the agent to see and fix, as is no variant rendering."""
    record = resolve(conn, name, agent, language)
    errors: list[str] = []
    if record.scope == "personal":
        return render(record, values(record)), errors
    try:
        return render(record, values(record)), errors
    except Exception as exc:  # noqa: BLE001 - fall back to the shipped text below
        errors.append(_failure(record, exc))
    system = [r for r in store.templates_named(conn, name, None) if r.scope == "system"]
    if record.scope != "system" and system:
        fallback = pick_language(system, language)
        try:
            return render(fallback, values(fallback)), errors
        except Exception as exc:  # noqa: BLE001
            errors.append(_failure(fallback, exc))
    raise TemplateError(record.label, "; ".join(errors)[:500])


def _failure(record: TemplateRecord, exc: Exception) -> str:
    """One line for the request's events and the log: which template, what went wrong."""
    if isinstance(exc, TemplateError):
        error = str(exc)
    else:
        error = f"template {record.label}: failed: {type(exc).__name__}: {exc}"
    log.warning("%s", error)
    return error


__all__ = [
    "RENDERER",
    "WORKFLOW_TEMPLATES",
    "ITEM_TEMPLATES",
    "ImportReport",
    "ItemRequired",
    "Rendered",
    "TemplateError",
    "TemplateService",
    "context",
    "desk_dir",
    "effective",
    "ensure_system_templates",
    "export_folder",
    "import_folder",
    "offered",
    "pick_language",
    "render",
    "render_or_shipped",
    "render_workflow",
    "request_context",
    "resolve",
    "sample_context",
    "shipped_dir",
    "workflow_variants",
    "shipped_variants",
]


class TemplateService:
    """Templates as agents use them: listing, finding and suggesting, adding, removing,
    importing, exporting and rendering. Keeps one search index per agent until a template
    they see changes."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx
        self._indexes: dict[str | None, tuple[Any, TemplateIndex, dict[int, TemplateRecord]]] = {}

    def templates(
        self, agent: str | None, *, shadowed: bool = False, for_request: int | None = None
    ) -> list[TemplateRecord]:
        """What `agent` can use (one scope per name); with `shadowed`, everything visible.
        `for_request`: only what is offered for that request (bug_ack, idea_thanks and
        fixed_notice only in their flow)."""
        with self.ctx.db.read() as conn:
            records = store.visible_templates(conn, agent)
        found = records if shadowed else effective(records, agent)
        if for_request is None:
            return found
        hidden = self._not_offered(for_request)
        return [r for r in found if r.name not in hidden]

    def _not_offered(self, number: int) -> set[str]:
        """The names of the templates that need an item and do not fit request `number`."""
        with self.ctx.db.read() as conn:
            request, item = _request_and_item(conn, number)
        return {name for name in ITEM_TEMPLATES if not offered(name, item)}

    def template(self, name: str, agent: str | None, language: str | None = None) -> TemplateRecord:
        with self.ctx.db.read() as conn:
            return resolve(conn, name, agent, language)

    def template_scopes(self, name: str, agent: str) -> list[str]:
        """The scopes in which `agent` sees a template named `name` (personal, team, system)."""
        with self.ctx.db.read() as conn:
            found = store.templates_named(conn, name, agent)
        return sorted(
            {r.scope for r in found if r.scope != "personal" or r.owner == agent},
            key=lambda s: PRECEDENCE.get(s, 3),
        )

    def free_template_name(self, name: str, agent: str) -> str:
        """`name-2`, `name-3` … the first that `agent` sees no template of."""
        base = re.sub(r"-\d+$", "", name) or name
        taken = {r.name for r in self.templates(agent, shadowed=True)}
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    def save_template_from(self, record: TemplateRecord, name: str, owner: str) -> str:
        """Store `record`'s source (placeholders, subject and tags as they are) as `owner`'s
        personal template `name`. Returns 'added', 'updated' or 'unchanged'."""
        source = replace(as_file(record), name=check_name(name))
        RENDERER.check(f"{source.name!r} ({source.language})", source.body)
        with self.ctx.db.write() as conn:
            known_agent(conn, owner)
            return save_file(conn, "personal", owner, source, self.ctx.now())

    def add_template(
        self,
        name: str,
        text: str,
        *,
        owner: str | None,
        language: str | None = None,
        source: str = "the template",
    ) -> str:
        """Store a template from its text (front matter optional): personal for `owner`, the
        team's when `owner` is None. Checked before it is stored.

        Returns 'added', 'updated' or 'unchanged'."""
        parsed = parse_template_text(text, source=source, name=name, language=language)
        if language:
            parsed = replace(parsed, language=check_language(language))
        parsed = replace(parsed, name=check_name(name))
        RENDERER.check(f"{parsed.name!r} ({parsed.language})", parsed.body)
        with self.ctx.db.write() as conn:
            known_agent(conn, owner)
            scope = "personal" if owner else "team"
            return save_file(conn, scope, owner or "", parsed, self.ctx.now())

    def remove_template(self, name: str, *, owner: str | None, language: str | None = None) -> int:
        scope = "personal" if owner else "team"
        with self.ctx.db.write() as conn:
            ids = [
                r.id
                for r in store.templates_in_scope(conn, scope, owner or "")
                if r.name == name and (language is None or r.language == language)
            ]
            if not ids:
                raise NotFoundError(f"no {scope} template named {name!r}")
            return store.delete_templates(conn, ids)

    def import_templates(self, folder: Path, owner: str | None = None) -> ImportReport:
        with self.ctx.db.write() as conn:
            known_agent(conn, owner)
            return import_folder(conn, folder, self.ctx.now(), owner=owner)

    def export_templates(self, folder: Path, owner: str | None = None) -> list[Path]:
        with self.ctx.db.read() as conn:
            known_agent(conn, owner)
            return export_folder(conn, folder, owner=owner)

    def render_template(
        self, name: str, agent: str, number: int | None = None, language: str | None = None
    ) -> Rendered:
        """Render for request `number` (or a made-up sample); TemplateError if it fails."""
        settings = self.ctx.settings
        with self.ctx.db.read() as conn:
            person = get_agent(conn, agent)
            if number is None:
                record = resolve(conn, name, agent, language)
                return render(record, sample_context(settings, person, record.language))
            request = get_request(conn, number)
            if request is None:
                raise NotFoundError(f"request #{number} does not exist")
            record = resolve(conn, name, agent, language or request.language)
            values = request_context(conn, settings, request, person, record.language)
            return render(record, values)

    def search_templates(
        self,
        query: str,
        agent: str | None,
        language: str | None = None,
        limit: int = 20,
        *,
        number: int | None = None,
    ) -> list[tuple[TemplateRecord, float]]:
        """Fuzzy search; for request `number`, only what is offered for it."""
        index, by_id = self._template_index(agent)
        hidden = self._not_offered(number) if number is not None else set()
        hits = index.search(query, language=language, limit=limit + len(hidden) * 4)
        found = [(by_id[h.doc.key], h.score) for h in hits if h.doc.name not in hidden]
        return found[:limit]

    def suggest_templates(
        self, number: int, agent: str, limit: int = 5
    ) -> list[tuple[TemplateRecord, float]]:
        """Templates that fit request `number`, best first: the workflow's own answer when the
        request is a follow-up or a fixed bug, then by its latest customer message and by what
        this agent sent to similar messages."""
        return [(r, s) for r, s, _ in self._suggest(number, agent, limit)]

    def _suggest(
        self, number: int, agent: str, limit: int
    ) -> list[tuple[TemplateRecord, float, tuple[str, ...]]]:
        from supportdesk.textsearch import Use

        with self.ctx.db.read() as conn:
            request, item = _request_and_item(conn, number)
            conversation = messages_of(conn, number)
            uses = store.recent_uses(conn, agent)
        hidden = {name for name in ITEM_TEMPLATES if not offered(name, item)}
        index, by_id = self._template_index(agent)
        language = request.language or "en"
        found: list[tuple[TemplateRecord, float, tuple[str, ...]]] = []
        workflow = workflow_suggestion(request)
        if workflow and workflow not in hidden:
            variants = [r for r in by_id.values() if r.name == workflow]
            if variants:
                found.append((pick_language(variants, language), 1.0, ()))
        parts = customer_parts(request, conversation)
        history = [Use(name, tuple(words.split())) for name, words in uses]
        hits = index.suggest(parts, language=language, history=history, limit=limit + len(hidden))
        for hit in hits:
            if hit.doc.name not in hidden and all(r.name != hit.doc.name for r, _, _ in found):
                found.append((by_id[hit.doc.key], hit.score, hit.matched))
        return found[:limit]

    def suggestions(self, number: int, agent: str, limit: int = 5) -> list[Suggestion]:
        """The suggestions with their fit (0..1) and the customer's words each matched; the
        first is preselected (what `r` opens the editor with) when its fit reaches
        `[templates] preselect_threshold`, else none is."""
        threshold = self.ctx.settings.templates.preselect_threshold
        found = self._suggest(number, agent, limit)
        return [
            Suggestion(
                record,
                fit := min(1.0, max(0.0, score)),
                matched,
                preselected=(i == 0 and fit >= threshold),
            )
            for i, (record, score, matched) in enumerate(found)
        ]

    def _template_index(self, agent: str | None) -> tuple[TemplateIndex, dict[int, TemplateRecord]]:
        """The search index over what `agent` sees, rebuilt only when templates change."""
        from supportdesk.templating.search import TemplateIndex

        with self.ctx.db.read() as conn:
            key = (agent, store.fingerprint(conn, agent))
            cached = self._indexes.get(agent)
            if cached is not None and cached[0] == key:
                return cached[1], cached[2]
            records = effective(store.visible_templates(conn, agent), agent)
        by_id = {r.id: r for r in records}
        index = TemplateIndex(to_docs(records))
        self._indexes[agent] = (key, index, by_id)
        return index, by_id


def _request_and_item(conn: Connection, number: int) -> tuple[RequestRecord, ItemRecord | None]:
    request = get_request(conn, number)
    if request is None:
        raise NotFoundError(f"request #{number} does not exist")
    item = get_item(conn, request.item) if request.item is not None else None
    return request, item
