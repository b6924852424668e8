"""Configuration: a typed model of config.toml, found, read and validated with clear errors."""

from __future__ import annotations

import ipaddress
import os
import shlex
import subprocess
import tomllib
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from supportdesk.business_hours import BusinessHours, deadline, parse_hours
from supportdesk.durations import parse_duration
from supportdesk.errors import ConfigError

APP_NAME = "supportdesk"


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _shown(value: Any) -> str:
    """A config value as it was written in the file: "0s" for a string, -5 for a number."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _spoken(span: timedelta) -> str:
    """A duration the way config.toml writes it: 1s, 30s, 1m, 12h, 365d."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _bounded_duration(value: Any, low: timedelta, high: timedelta) -> timedelta:
    span = _duration(value)
    if span < low:
        raise ValueError(f"must be at least {_spoken(low)} (got {_shown(value)})")
    if span > high:
        raise ValueError(f"must be at most {_spoken(high)} (got {_shown(value)})")
    return span


def within(low: timedelta, high: timedelta) -> BeforeValidator:
    """A duration between `low` and `high`: zero or negative durations made `fetch --watch`
    spin a core, and an absurd one (a timeout of years) is a typo."""
    return BeforeValidator(lambda value: _bounded_duration(value, low, high))


SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
YEAR = timedelta(days=365)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class DeskSettings(Section):
    name: str = "Support"
    """The team's name, shown in the console and used as the sender's display name."""
    address: str = "support@example.com"
    """The support address customers write to; outgoing mail is sent from it."""
    database: str = "sqlite:///desk.db"
    """SQLAlchemy URL; a relative SQLite path is relative to the config file."""
    templates: str = "templates"
    """Folder of template files, relative to the config file."""
    agent: str | None = None
    """Default agent login for this terminal ($USER otherwise)."""
    data_dir: str | None = None
    """The folder the console offers for saved attachments, relative to the config file
    (~/Downloads when unset, else the current folder)."""


class MailboxSettings(Section):
    kind: Literal["imap", "maildir", "mbox", "none"] = "none"
    """Where mail comes from: imap, a local maildir or mbox, or none."""
    host: str = "localhost"
    """IMAP server host name."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """IMAP port (993 with tls, 143 otherwise)."""
    security: Literal["tls", "starttls", "none"] = "tls"
    """tls, starttls, or none (only allowed on a loopback host)."""
    username: str = ""
    """IMAP login."""
    password_cmd: str | None = None
    """A command whose output is the password (e.g. `pass show mail/support`)."""
    password_env: str | None = None
    """An environment variable that holds the password."""
    folders: list[str] = ["INBOX"]
    """IMAP folders to take mail from."""
    after_fetch: str = "keep"
    """What to do with fetched mail on the server: keep, seen, or move:FOLDER."""
    poll_interval: Annotated[timedelta, within(SECOND, DAY)] = timedelta(seconds=60)
    """How often to poll when the server has no IDLE (and the IDLE renewal period)."""
    path: str | None = None
    """For maildir and mbox: the path, relative to the config file."""
    batch_bytes: int = Field(default=8_000_000, ge=10_000, le=2_000_000_000)
    """Fetch messages in batches of about this many bytes, so memory stays flat."""
    timeout: Annotated[timedelta, within(SECOND, HOUR)] = timedelta(seconds=30)
    """Network timeout for the IMAP connection."""
    lease: Annotated[timedelta, within(SECOND, HOUR)] = timedelta(seconds=90)
    """One process polls (a console or `fetch --watch`): it renews this lease at least every
    half lease; when it dies, another takes over within two leases."""

    @model_validator(mode="after")
    def _check(self) -> MailboxSettings:
        if self.after_fetch not in ("keep", "seen") and not (
            self.after_fetch.startswith("move:") and len(self.after_fetch) > 5
        ):
            raise ValueError("after_fetch: expected keep, seen or move:FOLDER")
        if self.kind in ("maildir", "mbox") and not self.path:
            raise ValueError(f"path: required when kind = {self.kind!r}")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


class OutgoingSettings(Section):
    kind: Literal["smtp", "sendmail", "file", "none"] = "file"
    """How mail goes out: smtp, a local sendmail, or file (writes .eml files to a folder)."""
    host: str = "localhost"
    """SMTP server host name."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """SMTP port (465 with tls, 587 with starttls, 25 otherwise)."""
    security: Literal["tls", "starttls", "none"] = "starttls"
    """tls, starttls, or none (only allowed on a loopback host)."""
    username: str = ""
    """SMTP login (empty: no AUTH)."""
    password_cmd: str | None = None
    """A command whose output is the password."""
    password_env: str | None = None
    """An environment variable that holds the password."""
    path: str = "outbox"
    """For kind = file: the folder the .eml files are written to."""
    sendmail: str = "/usr/sbin/sendmail"
    """For kind = sendmail: the sendmail program."""
    timeout: Annotated[timedelta, within(SECOND, HOUR)] = timedelta(seconds=30)
    """Network timeout for SMTP."""
    data_timeout: Annotated[timedelta, within(SECOND, HOUR)] = timedelta(minutes=10)
    """How long to wait for the server to accept a message once it is sent (the reply to
    DATA's final dot; RFC 5321 recommends 10 minutes). With no reply in time the message
    may have been delivered: it is tried once more, then left unconfirmed."""
    max_attempts: int = Field(default=8, ge=1, le=100)
    """Temporary failures are retried with backoff this many times before the message fails."""
    undo_seconds: int = Field(default=10, ge=0, le=300)
    """An agent's reply waits this long in the outbox before delivery: the console offers `u`
    to bring it back to the editor meanwhile (0: delivered at the next round)."""
    attachment_limit: int = Field(default=10_000_000, ge=1_000, le=100_000_000)
    """The most an answer's attachments may weigh together, in bytes ("10MB" and "512KB"
    are accepted); an agent attaching more is told at once."""

    @field_validator("attachment_limit", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().upper().replace(" ", "")
            units = {"GB": 10**9, "MB": 10**6, "KB": 10**3, "B": 1}
            for unit, factor in units.items():
                if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
                    return int(float(text[: -len(unit)]) * factor)
            if text.isdigit():
                return int(text)
            raise ValueError(f'attachment_limit: {value!r} is not a size (write e.g. "10MB")')
        return value

    @property
    def effective_port(self) -> int:
        return self.port or {"tls": 465, "starttls": 587, "none": 25}[self.security]


class WorkflowSettings(Section):
    follow_up_after: Annotated[timedelta, within(MINUTE, YEAR)] = timedelta(days=2)
    """A waiting request comes back to the stack after this much silence."""
    max_reminders: int = Field(default=2, ge=0, le=20)
    """Reminders before a silent request is closed."""
    auto_close: bool = True
    """Close a request with reason no_reply after the last reminder goes unanswered."""
    notify_on_auto_close: bool = True
    """Send closed_no_reply to the customer when a request is closed that way."""
    auto_remind: bool = False
    """Send the reminders without an agent (the follow-up does not come back to the stack)."""
    claim_ttl: Annotated[timedelta, within(30 * SECOND, DAY)] = timedelta(minutes=10)
    """How long opening a request claims it."""
    ack_interval: Annotated[timedelta, within(SECOND, 30 * DAY)] = timedelta(hours=1)
    """At most one acknowledgement to an address (Reply-To, else From) in this period."""
    acks_per_day: int = Field(default=5, ge=1, le=1000)
    """At most this many acknowledgements to one address in 24 hours."""
    loop_threshold: int = Field(default=5, ge=1, le=10000)
    """A sender who opens more new requests than this in 24 hours gets no more
    acknowledgements that day, and those requests are tagged possible-loop."""
    repeat_window: Annotated[timedelta, within(0 * SECOND, DAY)] = timedelta(hours=1)
    """The same text again from the same sender within this time joins the earlier request
    instead of opening a new one (a naive auto-responder, an impatient customer); 0s: never."""


class SlaSettings(Section):
    first_response: Annotated[timedelta, within(MINUTE, YEAR)] = timedelta(hours=12)
    """The promised time to a first answer (also quoted in the acknowledgement)."""
    warn_before: Annotated[timedelta, within(timedelta(0), YEAR)] = timedelta(hours=2)
    """Pin a request above the stack this long before its first answer is due."""
    hours: str | None = None
    """Business hours when the SLA clock runs, e.g. "mon-fri 09:00-18:00"; none: always."""
    timezone: str = "UTC"
    """The time zone of the business hours (an IANA name such as Europe/Berlin)."""

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        load_zone(value)
        return value

    @property
    def business_hours(self) -> BusinessHours | None:
        """The parsed business hours (None: the clock runs around the day)."""
        return _parsed_hours(self.hours) if self.hours is not None else None

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the business hours are in."""
        return load_zone(self.timezone)

    def due(self, start: datetime) -> datetime:
        """When the first answer to a request that arrived at `start` is due (aware UTC)."""
        return deadline(start, self.first_response, self.business_hours, self.zone)


class TemplateSettings(Section):
    preselect_threshold: float = Field(default=0.4, ge=0.0, le=1.0)
    """The reply editor opens with the best suggested template already rendered only when its
    fit (0..1) reaches this; below it, none is preselected (1: never)."""


class CsatSettings(Section):
    ask: bool = True
    """Answers and closing messages end with one line asking the customer to rate them ("How
    did we do? Reply with a number from 1 to 5, or with 'good'/'bad'"; the system template
    csat_question, in the request's language); false: never asked."""
    two_scores: bool = False
    """Ask for two scores, politeness and proficiency ("5 4"), instead of one."""


class StatsSettings(Section):
    timezone: str | None = None
    """The time zone days and weeks of `stats` and the console's figures are counted in (an
    IANA name); none: sla.timezone."""
    daily_report: str | None = None
    """Mail the team yesterday's figures each morning at this local time ("08:00"), sent by
    the process that holds the poller lease, once a day; none: no report."""
    report_to: str | None = None
    """Where the daily report goes (the team's own address, never the support address)."""

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            load_zone(value)
        return value

    @field_validator("daily_report")
    @classmethod
    def _check_report_time(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = value.strip().split(":")
        ok = len(parts) == 2 and all(p.isdigit() for p in parts)
        if not ok or int(parts[0]) > 23 or int(parts[1]) > 59:
            raise ValueError(f'daily_report: {value!r} is not a time of day (write e.g. "08:00")')
        return f"{int(parts[0]):02d}:{int(parts[1]):02d}"

    @model_validator(mode="after")
    def _check_recipient(self) -> StatsSettings:
        if self.daily_report is not None and not (self.report_to or "").strip():
            raise ValueError("daily_report is set but report_to is not: name the team's address")
        return self


class ReviewSettings(Section):
    max_wait: Annotated[timedelta, within(MINUTE, 30 * DAY)] = timedelta(minutes=30)
    """A trainee's letter pending review longer than this is pinned on top of the review
    queue and marked late (the SLA keeps counting until the customer gets it)."""
    sample: float = Field(default=0.05, ge=0.0, le=1.0)
    """The share of sent answers of agents who are not trainees that go to the quality
    queue (0.05 or "5%"; 0: none)."""
    checklist: list[str] = [
        "greeting",
        "answered the question",
        "tone",
        "clarity",
        "next step",
        "spelling",
    ]
    """The rules a quality reviewer names when an answer broke one (completion; any text
    is accepted)."""

    @field_validator("sample", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().endswith("%"):
            number = value.strip()[:-1].strip()
            try:
                return float(number) / 100
            except ValueError:
                raise ValueError(
                    f'sample: {value!r} is not a share (write e.g. "5%" or 0.05)'
                ) from None
        return value


class Rule(Section):
    subject_any: list[str] = []
    """Match when the subject contains any of these words (case-insensitive)."""
    from_any: list[str] = []
    """Match when the sender's address contains any of these strings."""
    body_any: list[str] = []
    """Match when the body contains any of these words."""
    tags: list[str] = []
    """Tags to add."""
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    """Priority to set."""
    language: str | None = None
    """Language to set."""
    assignee: str | None = None
    """Agent login to assign."""
    line: int | None = Field(default=None, ge=1, le=9)
    """The line the request starts on (e.g. 2: straight to the second line)."""


class Settings(Section):
    desk: DeskSettings = DeskSettings()
    mailbox: MailboxSettings = MailboxSettings()
    outgoing: OutgoingSettings = OutgoingSettings()
    workflow: WorkflowSettings = WorkflowSettings()
    sla: SlaSettings = SlaSettings()
    templates: TemplateSettings = TemplateSettings()
    csat: CsatSettings = CsatSettings()
    stats: StatsSettings = StatsSettings()
    review: ReviewSettings = ReviewSettings()
    rules: list[Rule] = []
    keymap: dict[str, str] = {}
    """Key remapping for the console: binding id = keys."""

    path: Path | None = Field(default=None, exclude=True)
    """The file this was read from (None for built-in defaults)."""

    @model_validator(mode="after")
    def _check_security(self) -> Settings:
        for name, section in (("mailbox", self.mailbox), ("outgoing", self.outgoing)):
            uses_network = (name == "mailbox" and section.kind == "imap") or (
                name == "outgoing" and section.kind == "smtp"
            )
            if uses_network and section.security == "none" and not is_loopback(section.host):
                raise ValueError(
                    f"{name}.security: 'none' sends passwords in clear text and is only "
                    f"allowed on a loopback host, not {section.host!r}"
                )
        return self

    @model_validator(mode="after")
    def _check_report_to(self) -> Settings:
        to = (self.stats.report_to or "").strip().lower()
        if to and to == self.desk.address.strip().lower():
            raise ValueError(
                "stats.report_to: the report cannot go to the support address itself "
                "(it would come back as a customer's request); name the team's address"
            )
        return self

    @property
    def stats_zone(self) -> ZoneInfo:
        """The time zone of stats' days: stats.timezone, else sla.timezone."""
        return load_zone(self.stats.timezone or self.sla.timezone)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def database_url(self) -> str:
        url = self.desk.database
        prefix = "sqlite:///"
        if url.startswith(prefix) and url != "sqlite:///:memory:":
            # sqlite:///desk.db, or SQLite's URI form sqlite:///file:desk.db?mode=ro&uri=true
            rest = url[len(prefix) :]
            scheme = "file:" if rest.startswith("file:") else ""
            db_path, sep, query = rest.removeprefix(scheme).partition("?")
            if not db_path.startswith("/"):
                return prefix + scheme + str(self.resolve(db_path)) + sep + query
        return url

    @property
    def attachment_folder(self) -> Path:
        """Where a saved attachment goes unless the agent names another folder: `data_dir`,
        else ~/Downloads, else the current folder."""
        if self.desk.data_dir:
            return self.resolve(self.desk.data_dir)
        downloads = Path.home() / "Downloads"
        return downloads if downloads.is_dir() else Path.cwd()

    def agent_login(self, override: str | None = None) -> str:
        return override or self.desk.agent or os.environ.get("USER") or "agent"


_parsed_hours = lru_cache(maxsize=16)(parse_hours)
"""parse_hours, once per spec: a deadline is computed for every request."""


def load_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as Europe/Berlin; ValueError naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r} (expected an IANA name such as Europe/Berlin)"
        ) from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def find_config(explicit: str | Path | None = None) -> Path | None:
    """--config, then $SUPPORTDESK_CONFIG, then ./config.toml, then the platform config dir."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("SUPPORTDESK_CONFIG")
    if env:
        return Path(env)
    local = Path.cwd() / "config.toml"
    if local.exists():
        return local
    user = Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"
    return user if user.exists() else None


def load_settings(path: str | Path | None = None, *, required: bool = False) -> Settings:
    """Read and validate a config file; built-in defaults when there is none."""
    found = find_config(path)
    if found is None:
        if required:
            raise ConfigError("no configuration found: run supportdesk init or pass --config")
        return Settings()
    if not found.exists():
        raise ConfigError(f"{found}: no such configuration file")
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{found}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{found}: cannot read: {exc}") from None
    return parse_settings(data, found)


def parse_settings(data: dict[str, Any], path: Path | None = None) -> Settings:
    try:
        return Settings.model_validate({**data, "path": path})
    except ValidationError as exc:
        raise ConfigError(f"{path or 'config'}: {describe_validation_error(exc)}") from None


_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "less_than_equal": ("at most", "le"),
    "greater_than": ("more than", "gt"),
    "less_than": ("less than", "lt"),
}


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"] if p != "__root__")
        if err["type"] == "extra_forbidden":
            parts.append(f"{key}: unknown key")
            continue
        message = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        bound = _BOUNDS.get(err["type"])
        if bound is not None:  # an integer out of its range
            limit = (err.get("ctx") or {}).get(bound[1])
            parts.append(f"{key} must be {bound[0]} {limit} (got {_shown(got)})")
        elif message.startswith("must be "):  # a duration out of its range
            parts.append(f"{key} {message}")
        elif err["type"] in ("value_error", "assertion_error") or isinstance(got, dict):
            parts.append(f"{key}: {message}" if key else message)
        else:
            parts.append(f"{key}: {message.lower()}, got {got!r}")
    return "; ".join(parts)


def read_secret(section: MailboxSettings | OutgoingSettings, what: str) -> str | None:
    """The password from password_cmd or password_env (never from the file itself)."""
    if section.password_cmd:
        try:
            out = subprocess.run(
                shlex.split(section.password_cmd),
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigError(f"{what}.password_cmd failed: {exc}") from None
        return out.stdout.strip("\r\n")
    if section.password_env:
        value = os.environ.get(section.password_env)
        if value is None:
            raise ConfigError(
                f"{what}.password_env: environment variable {section.password_env} is not set"
            )
        return value
    return None
