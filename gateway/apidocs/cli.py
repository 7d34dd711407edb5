"""``gateway specs``: write the published OpenAPI documents, or check them for drift."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from gateway.apidocs import documents
from gateway.apidocs.common import SPECS_DIR, SpecError

specs_cli = AppGroup("specs", help="The published OpenAPI documents under specs/openapi/.")
folder_option = click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=SPECS_DIR,
    show_default="specs/openapi",
    help="Folder of the documents.",
)


@specs_cli.command("write")
@folder_option
def specs_write(folder: Path) -> None:
    """Generate the documents from the code and write them (run it whenever routes change)."""
    try:
        changed = documents.write(current_app, folder)
    except SpecError as exc:
        raise click.ClickException(str(exc)) from None
    for path in changed:
        click.echo(f"wrote {path}")
    if not changed:
        click.echo(f"{folder} is up to date")


@specs_cli.command("check")
@folder_option
def specs_check(folder: Path) -> None:
    """Exit 1 when the committed documents differ from what the code generates."""
    try:
        stale = documents.drift(current_app, folder)
    except SpecError as exc:
        raise click.ClickException(str(exc)) from None
    if stale:
        for filename in stale:
            click.echo(f"{folder / filename} differs from what the code generates", err=True)
        click.echo("run `gateway specs write` and commit the result", err=True)
        sys.exit(1)
    click.echo(f"{folder} matches the code")
