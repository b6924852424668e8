"""Errors that reach the user as one clear line."""


class SupportDeskError(Exception):
    """A failure the user can act on; the CLI prints it as one line and exits 1."""


class ConfigError(SupportDeskError):
    """The configuration is missing, unreadable or invalid."""


class NotFoundError(SupportDeskError):
    """A request, message, agent or template that does not exist."""


class MailServerError(SupportDeskError):
    """A mail server could not be reached or refused us."""


class TemplateError(SupportDeskError):
    """A template that cannot be rendered: it names the template, the line and the problem."""

    def __init__(self, template: str, problem: str, line: int | None = None) -> None:
        self.template = template
        self.problem = problem
        self.line = line
        where = f", line {line}" if line else ""
        super().__init__(f"template {template}{where}: {problem}")


class RetryableError(SupportDeskError):
    """The database gave up on a transaction that may simply be run again (a deadlock, a
    serialization failure, a lock wait that timed out); nothing of it was written."""


class DatabaseError(SupportDeskError):
    """The database refused or failed an operation: the driver's reason and what to do, never
    the statement or its parameters (they hold customers' addresses)."""


class DamagedDatabaseError(DatabaseError):
    """The SQLite file is damaged; `supportdesk db check --repair` copies what it can into a
    new file."""

    def __init__(self, message: str, *, path: object, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason
