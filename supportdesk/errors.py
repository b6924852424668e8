"""Errors that reach the user as one clear line."""


class SupportDeskError(Exception):
    """A failure the user can act on; the CLI prints it as one line and exits 1."""


class ConfigError(SupportDeskError):
    """The configuration is missing, unreadable or invalid."""


class NotFoundError(SupportDeskError):
    """A request, message, agent or template that does not exist."""


class MailServerError(SupportDeskError):
    """A mail server could not be reached or refused us."""


class RetryableError(SupportDeskError):
    """The database gave up on a transaction that may simply be run again (a deadlock, a
    serialization failure, a lock wait that timed out); nothing of it was written."""
