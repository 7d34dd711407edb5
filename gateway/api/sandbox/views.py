"""``/clock``, ``/clock/advance`` and ``/reset``: thin views over the sandbox administration
contract (:class:`gateway.core.administration.SandboxAdministration`)."""

from __future__ import annotations

import contextlib

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.common import envelope, parse_json
from gateway.api.sandbox import bp
from gateway.api.sandbox.schemas import (
    AdvanceRequest,
    ResetRequest,
    advance_body,
    clock_body,
    delta,
)
from gateway.core.administration import SandboxAdministration
from gateway.core.errors import UnknownTenant
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session
from gateway.oauth.protector import TokenRefused, current_token, presented_token
from gateway.oauth.scopes import SANDBOX
from partners.models import App

CLIENT_TOKEN = ("client_credentials",)


def _sandbox() -> SandboxAdministration:
    administration: SandboxAdministration = current_app.extensions["sandbox"](get_session())
    return administration


def _refuse_production(client_id: str) -> None:
    app = get_session().get(App, client_id)
    if app is not None and app.environment != "sandbox":
        raise ApiError.one(
            "U042",
            f"the sandbox API serves sandbox apps: {client_id} is a {app.environment} app, "
            "which has no sandbox",
            status=403,
        )


def sandbox_tenant() -> str:
    """The sandbox of the caller's organisation: the only one its token acts on."""
    try:
        token = current_token(scope=SANDBOX, grant_types=CLIENT_TOKEN)
    except ApiError as refused:
        if refused.status == 403:
            # A live client token without the scope: say so plainly if its app is a production
            # one (which cannot have the scope) rather than only that the scope is missing.
            with contextlib.suppress(TokenRefused):
                _refuse_production(presented_token().client_id)
        raise
    _refuse_production(token.client_id)
    return get_session().get_one(App, token.client_id).organisation_id


@bp.get("/clock")
def clock() -> ResponseReturnValue:
    """The sandbox's time (created on first use, as every API does)."""
    tenant = sandbox_tenant()
    return jsonify(envelope(clock_body(tenant, _sandbox().ensure_tenant(tenant))))


@bp.post("/clock/advance")
def advance() -> ResponseReturnValue:
    """Move the clock forward and run whatever falls due on the way."""
    tenant = sandbox_tenant()
    moved = delta(parse_json(AdvanceRequest())["Data"])
    sandbox = _sandbox()
    before = sandbox.ensure_tenant(tenant).now
    run = sandbox.advance_clock(tenant, moved)
    return jsonify(envelope(advance_body(tenant, before, run, moved)))


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    """Throw the sandbox's data away and generate it again from its seed, its clock back at
    real time (a sandbox not made yet is made, which leaves it at its seed too)."""
    tenant = sandbox_tenant()
    if request.get_data(cache=True):
        # A body is optional; one that is sent is {"Data": {}}.
        parse_json(ResetRequest())
    sandbox = _sandbox()
    try:
        sandbox.tenant_info(tenant)
    except UnknownTenant:
        info = sandbox.ensure_tenant(tenant)
    else:
        info = sandbox.reset_tenant(tenant)
    return jsonify(envelope(clock_body(tenant, info)))
