"""``gateway idempotency purge``: delete the idempotency keys past their 24 hours.

An expired key is already treated as new when a request brings it again (its row is replaced
then); this command removes the rest, so that the table holds about a day of keys. Run it from
the scheduler (hourly, say): one statement, one commit.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from gateway.api.idempotency import guard, store
from gateway.store.database import Database

idempotency_cli = AppGroup("idempotency", help="Idempotency keys of the payment APIs.")


@idempotency_cli.command("purge")
def purge() -> None:
    """Delete the idempotency keys older than 24 hours."""
    database: Database = current_app.extensions["database"]
    with database.sessions.begin() as session:
        purged = store.purge(session, now=guard.now())
    click.echo(f"purged {purged} expired idempotency key{'' if purged == 1 else 's'}")
