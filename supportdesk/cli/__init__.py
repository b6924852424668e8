"""The command line: `supportdesk` opens the console; subcommands are headless."""

from supportdesk.cli.app import main

__all__ = ["main"]
