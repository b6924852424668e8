"""Root Typer app (filled in by the CLI modules)."""

import typer

app = typer.Typer(no_args_is_help=False, add_completion=False)


def main() -> None:
    app()
