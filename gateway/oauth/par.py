"""Pushed authorization requests (RFC 9126), required for every authorization (FAPI 2.0 §5.3.1.2).

The client pushes its authorization parameters over an authenticated back channel and receives a
short-lived, single-use ``request_uri`` bound to it; the browser carries only that handle.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from gateway.oauth import oidc, request_object, scopes, secrets
from gateway.oauth.dpop import Proof
from gateway.oauth.errors import OAuthError, invalid_request
from gateway.oauth.models import PushedRequest
from partners.models import App

# FAPI 2.0 §5.3.2.2 (5): request_uri lifetime under 600 seconds; we keep it short.
REQUEST_URI_TTL = 60
# RFC 7636 §4.2: code_challenge is BASE64URL(SHA256(verifier)), 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_JKT = re.compile(r"^[A-Za-z0-9_-]{43}$")
# The authorization request parameters this server uses; it keeps these with the request.
# RFC 6749 §3.1: "The authorization server MUST ignore unrecognized request parameters." So does
# this one: any other parameter (x_custom, max_age, acr_values, ...) is dropped, not refused.
KEPT = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "dpop_jkt",
    "openbanking_intent_id",
    "nonce",
    "prompt",
    "response_mode",
)


def push(
    session: Session,
    app: App,
    form: Mapping[str, str],
    *,
    proof: Proof | None,
    now: dt.datetime,
    issuer: str,
    keys: request_object.KeyResolver,
) -> tuple[str, int]:
    """Validate and store an authorization request; return its ``request_uri`` and lifetime.

    The request is the form's parameters or, with ``request``, those of the signed request
    object (RFC 9101); the consent it authorises is named by the ``openbanking_intent_id``
    claim of ``claims`` (OIDC Core §5.5) or, as a shortcut, by an ``openbanking_intent_id``
    parameter.
    """
    params = _parameters(app, form, issuer=issuer, keys=keys)
    _check(app, params)
    dpop_jkt = _binding(app, params, proof)
    request_uri = secrets.new(secrets.REQUEST_URI_PREFIX)
    session.add(
        PushedRequest(
            request_uri=request_uri,
            client_id=app.client_id,
            parameters=params,
            dpop_jkt=dpop_jkt,
            expires_at=now + dt.timedelta(seconds=REQUEST_URI_TTL),
        )
    )
    session.flush()
    return request_uri, REQUEST_URI_TTL


def _parameters(
    app: App, form: Mapping[str, str], *, issuer: str, keys: request_object.KeyResolver
) -> dict[str, str]:
    """The request's parameters: the form's, or those of its signed request object, with the
    consent it names as ``openbanking_intent_id``."""
    if "request_uri" in form:
        # RFC 9126 §2.1: "The request_uri authorization request parameter is one exception, and
        # it MUST NOT be provided."
        raise invalid_request("request_uri must not be pushed")
    if "request" in form:
        inner = request_object.verify(form["request"], app, issuer=issuer, keys=keys)
        # RFC 9101 §6.3: "The authorization server MUST only use the parameters in the Request
        # Object"; the client_id was checked against the authenticated client.
        params = _strings(inner, request_object.invalid_request_object)
        try:
            params["openbanking_intent_id"] = _intent(params, inner.get("claims"))
        except OAuthError as exc:
            raise request_object.invalid_request_object(exc.description) from None
    else:
        params = _strings(form, invalid_request)
        params["openbanking_intent_id"] = _intent(params, form.get("claims"))
    return params


def _check(app: App, params: Mapping[str, str]) -> None:
    """The rules FAPI 2.0 sets for an authorization request."""
    # FAPI 2.0 §5.3.2.2 (2): only the code response type.
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    if params.get("response_mode", "query") != "query":
        # Authorization responses go back in the query (FAPI 2.0 §5.3.2.2 (11)): a client that
        # asked for another mode would not find its answer.
        raise invalid_request("response_mode must be query")
    redirect_uri = params.get("redirect_uri", "")
    # FAPI 2.0 §5.3.2.2 (9, 10): redirect_uri is required and matched exactly.
    if not redirect_uri:
        raise invalid_request("redirect_uri is required")
    if redirect_uri not in (app.redirect_uris or []):
        raise invalid_request("redirect_uri is not registered for this client")
    # FAPI 2.0 §5.3.2.2 (4): PKCE with the S256 method is required.
    if params.get("code_challenge_method") != "S256":
        raise invalid_request("code_challenge_method must be S256")
    if not _CHALLENGE.match(params.get("code_challenge", "")):
        raise invalid_request("code_challenge must be a base64url SHA-256 digest")
    requested = scopes.split(params.get("scope"))
    if not requested:
        raise OAuthError("invalid_scope", "scope is required")
    allowed = scopes.grantable(app.scope)
    if any(s not in allowed for s in requested):
        raise OAuthError("invalid_scope", "the client may not request this scope")


def _binding(app: App, params: Mapping[str, str], proof: Proof | None) -> str | None:
    """The DPoP key the tokens will be bound to (``dpop_jkt``, or the PAR request's proof)."""
    dpop_jkt = params.get("dpop_jkt")
    if dpop_jkt is not None and not _JKT.match(dpop_jkt):
        raise invalid_request("dpop_jkt must be a JWK SHA-256 thumbprint")
    if proof is not None:
        # RFC 9449 §10.1: with both a proof and dpop_jkt, the thumbprints must match.
        if dpop_jkt is not None and dpop_jkt != proof.jkt:
            raise OAuthError("invalid_dpop_proof", "dpop_jkt does not match the DPoP proof")
        dpop_jkt = proof.jkt
    if app.dpop_bound and dpop_jkt is None:
        raise invalid_request("this client must bind its tokens with DPoP (dpop_jkt or a proof)")
    return dpop_jkt


def _strings(source: Mapping[str, object], error: Callable[[str], OAuthError]) -> dict[str, str]:
    """The parameters this server uses, each a string (a request object's JSON values may be
    anything)."""
    params: dict[str, str] = {}
    for name in KEPT:
        value = source.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise error(f"{name} must be a string")
        params[name] = value
    return params


def _intent(params: Mapping[str, str], claims: object) -> str:
    """The consent the request authorises: the essential ``openbanking_intent_id`` claim of the
    claims request (the OBIE form), or the ``openbanking_intent_id`` parameter (our shortcut)."""
    named = oidc.requested_intent(oidc.parse_claims(claims)) if claims is not None else None
    shortcut = params.get("openbanking_intent_id")
    if named and shortcut and named != shortcut:
        raise invalid_request("openbanking_intent_id differs from the one in claims")
    intent = named or shortcut
    if not intent:
        raise invalid_request(
            "name the consent being authorised: the openbanking_intent_id claim in claims "
            "(or the openbanking_intent_id parameter)"
        )
    return intent


def redeem(session: Session, client_id: str, request_uri: str, now: dt.datetime) -> PushedRequest:
    """Take a pushed request for the authorization endpoint: once, before it expires, and only
    by the client that pushed it. Raises ``invalid_request_uri``-style errors otherwise."""
    row = session.get(PushedRequest, request_uri, with_for_update=True)
    if row is None or row.client_id != client_id:
        raise OAuthError("invalid_request_uri", "unknown request_uri for this client")
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    if expires <= now:
        raise OAuthError("invalid_request_uri", "the request_uri has expired")
    if row.used_at is not None:
        # RFC 9126 §4: request_uri values are one-time use.
        raise OAuthError("invalid_request_uri", "the request_uri has been used already")
    row.used_at = now
    session.flush()
    return row
