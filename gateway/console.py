"""The ``gateway`` command: the operator commands (:mod:`gateway.cli`) on the application.

A command is one unit of work: it commits once at the end, or not at all if it fails.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup

from gateway.app import create_app
from gateway.config import ConfigError
from gateway.core.errors import BankCoreError


def _create_app(*_args: Any) -> Flask:
    return create_app()


class GatewayGroup(FlaskGroup):
    """Flask's command group (it builds the application for the commands, and keeps ``run``,
    ``shell`` and ``routes``) without the options of the ``flask`` command itself: ``-A/--app``
    would load another application, ``-e/--env-file`` (with the ``.env`` files it reads, and
    only when python-dotenv happens to be installed) and ``--debug`` configure one around ours,
    and its ``--version`` is Flask's. ``FLASK_DEBUG=1`` still puts ``gateway run`` in debug
    mode."""

    FLASK_OPTIONS = frozenset({"app", "env_file", "debug"})

    def __init__(self, **extra: Any) -> None:
        super().__init__(
            create_app=_create_app, add_version_option=False, load_dotenv=False, **extra
        )
        self.params = [p for p in self.params if p.name not in self.FLASK_OPTIONS]
        click.version_option(package_name="openbank-gateway", prog_name="gateway")(self)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Not FlaskGroup's: it reads FLASK_APP and FLASK_ENV_FILE for a bare --help.
        return AppGroup.parse_args(self, ctx, args)


cli = GatewayGroup(help="Open banking gateway and sandbox operations.")


def main() -> None:
    """Console-script entry: one line on stderr, exit status 2, for configuration errors."""
    try:
        cli.main(prog_name="gateway")
    except ConfigError as exc:
        click.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(2)
    except BankCoreError as exc:
        click.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(1)
