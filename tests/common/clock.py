"""The instant the sandbox's real time starts at in tests (``GATEWAY_SANDBOX_START``)."""

from __future__ import annotations

import datetime as dt

from flask import Flask

# A Wednesday at 10:00 UTC, some days into a month. Every app and server the tests start runs its
# sandbox from here, so no test depends on the day or hour it runs at; a test that needs another
# hour builds a core with a clock of its own.
SANDBOX_START = "2026-03-04T10:00:00+00:00"


def bank_now(app: Flask, tenant: str) -> dt.datetime:
    """The tenant's time on the app's bank core (creating the tenant's data set if new)."""
    database = app.extensions["database"]
    with database.sessions() as session:
        now: dt.datetime = app.extensions["bank_core"](session).now(tenant)
        session.commit()
    return now
