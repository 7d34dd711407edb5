"""HTTP endpoints of the authorization server (back channel): metadata, JWKS, PAR, token,
revocation, introspection. The browser-facing authorization endpoint is in
:mod:`gateway.oauth.consent_ui`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.edge.transaction import get_reader, get_session
from gateway.edge.urls import endpoint_url, issuer
from gateway.oauth import (
    client_auth,
    dpop,
    grants,
    keys,
    oidc,
    par,
    replay,
    request_object,
    scopes,
    tokens,
)
from gateway.oauth.errors import OAuthError, answer_in_oauth_format, invalid_request
from gateway.oauth.nonces import offer as offer_nonce
from partners.models import App

bp = Blueprint("oauth", __name__)
answer_in_oauth_format(bp)


def replay_guard(key: str, ttl: int, issued_at: float) -> replay.Outcome:
    """Claim a one-time credential's jti in the shared store (see :mod:`gateway.oauth.replay`)."""
    return replay.claim(current_app.extensions["redis"], key, ttl, issued_at)


def fetch_jwks_cached(uri: str) -> dict[str, Any]:
    """A client's JWKS from its ``jwks_uri``, cached for five minutes in the shared store."""
    cache = current_app.extensions["redis"]
    cached = cache.get(f"jwks:{uri}")
    if cached:
        data: dict[str, Any] = json.loads(cached)
        return data
    from partners.jwks import fetch_jwks

    data = fetch_jwks(uri)
    cache.set(f"jwks:{uri}", json.dumps(data), ex=300)
    return data


def _form() -> dict[str, str]:
    """The form parameters; a parameter sent twice is refused (RFC 6749 §3.1, §3.2)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise invalid_request("the body must be application/x-www-form-urlencoded")
    if request.args:
        raise invalid_request("parameters belong in the body, not the query string")
    form: dict[str, str] = {}
    for name, values in request.form.lists():
        if len(values) != 1:
            raise invalid_request(f"the {name} parameter is repeated")
        form[name] = values[0]
    return form


def _authenticated_client(form: dict[str, str]) -> App:
    return client_auth.authenticate(
        get_session(),
        form,
        request.headers.get("Authorization"),
        issuer=issuer(),
        replay=replay_guard,
        keys=client_auth.registered_keys(fetch_jwks_cached),
    )


def _proof(access_token: str | None = None) -> dpop.Proof | None:
    values = dpop.header_values(request.headers.get("DPoP"))
    if not values:
        return None
    nonces = current_app.extensions["dpop_nonces"]
    # RFC 9449 §8.2: a nonce for the client's next proof, whatever becomes of this one.
    offer_nonce(nonces)
    return dpop.verify_proof(
        values,
        method=request.method,
        url=endpoint_url(),
        replay=replay_guard,
        nonces=nonces,
        access_token=access_token,
    )


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get("/.well-known/oauth-authorization-server")
@bp.get("/.well-known/openid-configuration")
def metadata() -> ResponseReturnValue:
    """Authorization server metadata (RFC 8414), the same document as OpenID Connect Discovery
    (OpenID Connect Discovery 1.0 §3, §4) publishes."""
    base = issuer()
    algs = list(client_auth.ALGORITHMS)
    return jsonify(
        issuer=base,
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/token",
        pushed_authorization_request_endpoint=f"{base}/par",
        require_pushed_authorization_requests=True,
        revocation_endpoint=f"{base}/revoke",
        introspection_endpoint=f"{base}/introspect",
        # RFC 8414 §2 with RFC 7591: where OBIE dynamic client registration is.
        registration_endpoint=f"{base}/register",
        jwks_uri=f"{base}/jwks",
        scopes_supported=scopes.supported(),
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=sorted(grants.GRANTS),
        token_endpoint_auth_methods_supported=["private_key_jwt", "client_secret_basic"],
        token_endpoint_auth_signing_alg_values_supported=algs,
        revocation_endpoint_auth_methods_supported=["private_key_jwt", "client_secret_basic"],
        introspection_endpoint_auth_methods_supported=["private_key_jwt", "client_secret_basic"],
        code_challenge_methods_supported=["S256"],
        dpop_signing_alg_values_supported=list(dpop.ALGORITHMS),
        authorization_response_iss_parameter_supported=True,
        # OpenID Connect Discovery 1.0 §3: the consent is named in the claims parameter or a
        # signed request object; the ID token says which consent the customer authorised.
        claims_parameter_supported=True,
        claims_supported=list(oidc.CLAIMS_SUPPORTED),
        request_parameter_supported=True,
        request_object_signing_alg_values_supported=list(request_object.ALGORITHMS),
        id_token_signing_alg_values_supported=[keys.SIGNING_ALG],
        subject_types_supported=["pairwise"],
        acr_values_supported=[oidc.ACR],
    )


@bp.get("/jwks")
def jwks() -> ResponseReturnValue:
    """The server's public signing keys."""
    return jsonify(keys.public_jwks(get_session()))


@bp.post("/par")
def pushed_authorization_request() -> ResponseReturnValue:
    """RFC 9126 §2: push an authorization request; 201 with a single-use request_uri."""
    form = _form()
    app = _authenticated_client(form)
    request_uri, expires_in = par.push(
        get_session(),
        app,
        form,
        proof=_proof(),
        now=dt.datetime.now(dt.UTC),
        issuer=issuer(),
        keys=client_auth.registered_keys(fetch_jwks_cached),
    )
    response = jsonify(request_uri=request_uri, expires_in=expires_in)
    response.status_code = 201
    return _no_store(response)


@bp.post("/token")
def token() -> ResponseReturnValue:
    """RFC 6749 §3.2: the token endpoint."""
    form = _form()
    app = _authenticated_client(form)
    grant_type = form.get("grant_type", "")
    grant = grants.GRANTS.get(grant_type)
    if grant is None:
        raise OAuthError("unsupported_grant_type", "grant_type is not supported")
    registered = (app.client_metadata or {}).get("grant_types")
    if registered is not None and grant_type not in registered:
        # RFC 7591 §2: the client registered the grant types it may use.
        raise OAuthError("unauthorized_client", f"the client did not register {grant_type}")
    issued = grant(get_session(), app, form, _proof(), dt.datetime.now(dt.UTC))
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": issued.token_type,
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    }
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    if issued.authentication is not None:
        # OIDC Core §3.1.3.3 (and §12.2 for a refresh): the ID token, with the openid scope.
        body["id_token"] = oidc.id_token(
            get_session(),
            issued.authentication,
            issuer=issuer(),
            access_token=issued.access_token,
        )
    if issued.row.consent_id:
        body["consent_id"] = issued.row.consent_id
    return _no_store(jsonify(body))


@bp.post("/revoke")
def revoke() -> ResponseReturnValue:
    """RFC 7009: revoke an access or refresh token of the authenticated client."""
    form = _form()
    app = _authenticated_client(form)
    if "token" not in form:
        raise invalid_request("token is required")
    row = tokens.find_any(get_session(), form["token"])
    # RFC 7009 §2.2: an invalid or foreign token is answered 200 all the same.
    if row is not None and row.client_id == app.client_id:
        tokens.revoke(get_session(), row)
    return _no_store(Response(status=200))


@bp.post("/introspect")
def introspect() -> ResponseReturnValue:
    """RFC 7662: tell an authenticated resource server about a token.

    A client may introspect its own tokens; the clients named in ``GATEWAY_INTROSPECTION_CLIENTS``
    (resource servers) may introspect any token.
    """
    form = _form()
    app = _authenticated_client(form)
    if "token" not in form:
        raise invalid_request("token is required")
    row = tokens.find_access(get_reader(), form["token"])
    trusted = app.client_id in (current_app.config.get("INTROSPECTION_CLIENTS") or [])
    if row is None or not (trusted or row.client_id == app.client_id):
        return _no_store(jsonify(active=False))
    return _no_store(jsonify(_introspection(row)))


def _introspection(row: tokens.AccessToken) -> dict[str, Any]:
    body: dict[str, Any] = {
        "active": True,
        "scope": row.scope,
        "client_id": row.client_id,
        "token_type": "DPoP" if row.cnf_jkt else "Bearer",
        "exp": int(row.expires_at.timestamp()),
        "iat": int(row.issued_at.timestamp()),
        "iss": issuer(),
    }
    if row.customer_id:
        body["sub"] = row.customer_id
    if row.consent_id:
        body["consent_id"] = row.consent_id
    if row.cnf_jkt:
        body["cnf"] = {"jkt": row.cnf_jkt}
    return body
