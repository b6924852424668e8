"""`supportdesk reviews`: trainees' letters held for their mentor (list, show, approve,
return); the quality review's commands are in qualitycmds."""

from __future__ import annotations

import typer

from supportdesk.cli.app import app

reviews_app = typer.Typer(
    help="Trainees' letters waiting for review, and the quality review of sent answers.",
    no_args_is_help=True,
)
app.add_typer(reviews_app, name="reviews")
