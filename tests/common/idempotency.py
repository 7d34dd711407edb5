"""A stand-in for the payment APIs' POSTs, for the idempotency tests: a blueprint registered on
the test app only, whose guarded views create one consent row per successful request, and a
stand-in for the layer that signs responses (a fresh random ``x-jws-signature`` on each response
it signs, so that a replay that re-signed would show)."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from gateway.api.idempotency import idempotent, replaying
from gateway.api.idempotency.guard import CLOCK
from gateway.consents import services as consents
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session
from gateway.oauth import tokens
from gateway.oauth.protector import current_token
from gateway.store.database import Database
from partners.models import App
from tests.common.fapi import protected_app

PROBE = "/open-banking/_idempotency-probe"
PAYMENT_CONSENTS = f"{PROBE}/payment-consents"
FUNDS_CONSENTS = f"{PROBE}/funds-confirmation-consents"
CLIENT_TOKEN = ("client_credentials",)
# The longest a probe request holds its claim when its body asks it to (seconds).
MAX_DELAY = 3.0

bp = Blueprint("idempotency_probe", __name__, url_prefix=PROBE)


@bp.post("/payment-consents")
@idempotent("domestic-payment-consents")
def payment_consent() -> ResponseReturnValue:
    """Stands in for POST /domestic-payment-consents."""
    return _create("payments")


@bp.post("/funds-confirmation-consents")
@idempotent("funds-confirmation-consents")
def funds_consent() -> ResponseReturnValue:
    """Stands in for POST /funds-confirmation-consents."""
    return _create("fundsconfirmations")


def _create(kind: str) -> ResponseReturnValue:
    """One consent row per request; ``{"Fail": true}`` makes the request fail after writing it,
    ``{"Delay": s}`` holds the request (and its claim) that long first."""
    token = current_token(scope=kind, grant_types=CLIENT_TOKEN)
    body: dict[str, Any] = request.get_json(force=True)
    time.sleep(min(float(body.get("Delay", 0)), MAX_DELAY))
    session = get_session()
    consent = consents.create(
        session,
        client_id=token.client_id,
        tenant_id=session.get_one(App, token.client_id).organisation_id,
        kind=kind,
        data=body,
        now=dt.datetime.now(dt.UTC),
    )
    if body.get("Fail"):
        raise ApiError.one("U002", "failed as asked", path="Fail")
    location = f"{request.path}/{consent.id}"
    response = jsonify({"Data": {"ConsentId": consent.id, "Status": consent.status},
                        "Links": {"Self": location}, "Meta": {}})  # fmt: skip
    response.status_code = 201
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"  # not a header a replay repeats
    return response


@bp.after_request
def sign(response: Response) -> Response:
    """The signing layer's stand-in: a new signature on every success it has not signed before."""
    if response.status_code < 400 and not replaying():
        response.headers["x-jws-signature"] = secrets.token_urlsafe(48)
    return response


def probe_app(database_url: str, **config: Any) -> Flask:
    """The gateway with the probe blueprint (see the module's docstring)."""
    app = protected_app(database_url, **config)
    app.register_blueprint(bp)
    return app


@dataclass
class Clock:
    """The keys' clock, injected into an app: moved by hand."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now


def injected_clock(app: Flask) -> Iterator[Clock]:
    """Run the app's keys on a :class:`Clock` for one test."""
    clock = Clock()
    app.extensions[CLOCK] = clock
    try:
        yield clock
    finally:
        del app.extensions[CLOCK]


def bearer_token(app: Flask, client_id: str, scope: str) -> str:
    """A client-credentials Bearer token of the app, issued straight into the database."""
    database: Database = app.extensions["database"]
    with database.sessions.begin() as session:
        issued = tokens.issue(
            session, session.get_one(App, client_id), grant_type="client_credentials", scope=scope
        )
        return issued.access_token


def created(app: Flask, client_id: str) -> int:
    """How many consents the client's requests created."""
    database: Database = app.extensions["database"]
    with database.engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM gw_consent WHERE client_id = :c"), {"c": client_id}
        ).scalar_one()
    return int(count)
