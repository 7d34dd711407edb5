"""``/register`` endpoints (OBIE DCR v3.4; RFC 7591 §3, RFC 7592 §2)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from joserfc.jwk import KeySet

from gateway.edge.transaction import get_session
from gateway.edge.urls import issuer
from gateway.oauth import keys, protector, registration
from gateway.oauth.errors import OAuthError, answer_in_oauth_format
from gateway.oauth.views import fetch_jwks_cached, replay_guard
from partners import directory
from partners import services as partner_services
from partners.models import App

bp = Blueprint("registration", __name__)
answer_in_oauth_format(bp)


def _body() -> str:
    if request.mimetype not in ("application/jwt", "application/jose", "application/json"):
        raise registration.metadata_error("the body must be a JWT (application/jwt)")
    text = request.get_data(as_text=True).strip()
    # Some clients send the JWT as a JSON string, as the OBIE file literally describes it.
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


def _verified() -> tuple[dict[str, Any], dict[str, Any], Any, str]:
    body = _body()
    directory_keys = KeySet.import_key_set(keys.public_jwks(get_session()))  # type: ignore[arg-type]
    claims, ssa, organisation = registration.verify_request(
        get_session(),
        body,
        directory_keys=directory_keys,
        audiences=(directory.ASPSP_ID, issuer()),
        replay=replay_guard,
        fetch_jwks=fetch_jwks_cached,
    )
    return claims, ssa, organisation, claims["software_statement"]


def _client(client_id: str) -> App:
    """The client the presented client-credentials token belongs to, which must be this one.

    The token is checked as at any resource: Bearer, or DPoP with a proof of the bound key
    (RFC 9449 §7.1) - a DPoP-bound token presented as a bare Bearer token is refused.
    """
    try:
        row = protector.presented_token()
    except protector.TokenRefused as exc:
        # The body needs an error code even where the challenge names none (no credentials).
        error = exc.error or "invalid_token"
        raise OAuthError(
            error, exc.message, status=401, headers={"WWW-Authenticate": exc.challenge}
        ) from None
    if row.grant_type != "client_credentials":
        raise OAuthError(
            "invalid_token",
            "a client-credentials access token of this client is required",
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if row.client_id != client_id:
        raise OAuthError("access_denied", "the token belongs to another client", status=403)
    return get_session().get_one(App, client_id)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/register")
def register() -> ResponseReturnValue:
    """Register a client from a software statement (RFC 7591 §3.1)."""
    claims, ssa, organisation, statement = _verified()
    app, _meta = registration.register(get_session(), claims, ssa, organisation, statement)
    response = _json(registration.describe(app), 201)
    response.headers["Location"] = url_for(".read", client_id=app.client_id, _external=True)
    return response


@bp.get("/register/<client_id>")
def read(client_id: str) -> ResponseReturnValue:
    """Read a client's registration (RFC 7592 §2.1)."""
    return _json(registration.describe(_client(client_id)))


@bp.put("/register/<client_id>")
def update(client_id: str) -> ResponseReturnValue:
    """Replace a client's registration (RFC 7592 §2.2)."""
    app = _client(client_id)
    claims, ssa, _organisation, statement = _verified()
    registration.update(get_session(), app, claims, ssa, statement)
    return _json(registration.describe(app))


@bp.delete("/register/<client_id>")
def delete(client_id: str) -> ResponseReturnValue:
    """Delete a client and, with it, its tokens (RFC 7592 §2.3)."""
    partner_services.delete_app(get_session(), _client(client_id))
    return Response(status=204)
