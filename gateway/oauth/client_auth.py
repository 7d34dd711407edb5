"""Client authentication at the token, PAR, revocation and introspection endpoints.

``private_key_jwt`` (RFC 7523 §2.2, OIDC Core §9) is required in production and available in the
sandbox; ``client_secret_basic`` (RFC 6749 §2.3.1) is allowed in the sandbox only, for a gentle
start. FAPI 2.0 §5.3.2.1 limits assertion algorithms to PS256/ES256/EdDSA and requires the
issuer identifier as the audience.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from sqlalchemy.orm import Session

from gateway.oauth.errors import OAuthError, invalid_client, invalid_request
from gateway.oauth.replay import CLIENT_CLOCK_AHEAD, Outcome, ReplayGuard
from partners import services as partner_services
from partners.errors import PartnerError
from partners.models import App

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("PS256", "ES256")
# An assertion may be issued at most this far in the future (clock skew) and live this long.
MAX_SKEW = CLIENT_CLOCK_AHEAD
MAX_LIFETIME = 300
MAX_ASSERTION_BYTES = 8192

KeyResolver = Callable[[App], KeySet]


def authenticate(
    session: Session,
    form: Mapping[str, str],
    authorization: str | None,
    *,
    issuer: str,
    replay: ReplayGuard,
    keys: KeyResolver,
) -> App:
    """Return the app that authenticated this request, or raise ``invalid_client``."""
    has_assertion = "client_assertion" in form or "client_assertion_type" in form
    has_basic = bool(authorization and authorization.lower().startswith("basic "))
    has_post = "client_secret" in form
    if has_assertion + has_basic + has_post > 1:
        # RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
        # A client_secret in the form next to Basic credentials counts as a second one.
        raise invalid_request("use exactly one client authentication method")
    if has_assertion:
        return _private_key_jwt(session, form, issuer=issuer, replay=replay, keys=keys)
    if has_basic and authorization:
        return _client_secret_basic(session, form, authorization)
    if has_post:
        raise invalid_client("client_secret_post is not supported; use private_key_jwt")
    raise invalid_client("client authentication is required")


def _active_app(session: Session, client_id: str) -> App:
    app = session.get(App, client_id)
    if app is None or app.status != "active":
        raise invalid_client("unknown or inactive client")
    return app


def _client_secret_basic(session: Session, form: Mapping[str, str], header: str) -> App:
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1].strip(), validate=True).decode()
        raw_id, raw_secret = decoded.split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_client("malformed Basic credentials", basic=True) from None
    # RFC 6749 §2.3.1: the client id and secret are form-urlencoded before Basic encoding.
    client_id, secret = unquote(raw_id.replace("+", " ")), unquote(raw_secret.replace("+", " "))
    if form.get("client_id") not in (None, client_id):
        raise invalid_client("client_id does not match the authenticated client", basic=True)
    app = _active_app(session, client_id)
    if app.token_endpoint_auth_method != "client_secret_basic":  # noqa: S105 - a method name
        raise invalid_client("this client authenticates with private_key_jwt", basic=True)
    if app.environment != "sandbox":
        raise invalid_client("client_secret_basic is allowed in the sandbox only", basic=True)
    if not partner_services.verify_client_secret(app, secret):
        raise invalid_client("wrong client credentials", basic=True)
    return app


def _private_key_jwt(
    session: Session,
    form: Mapping[str, str],
    *,
    issuer: str,
    replay: ReplayGuard,
    keys: KeyResolver,
) -> App:
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise invalid_client(f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion", "")
    if not assertion or len(assertion) > MAX_ASSERTION_BYTES:
        raise invalid_client("client_assertion is missing or too large")
    header, claims = _unverified(assertion)
    if header.get("alg") not in ALGORITHMS:
        raise invalid_client(f"client_assertion alg must be one of {', '.join(ALGORITHMS)}")
    if "crit" in header:
        raise invalid_client("no critical header extension is understood")
    client_id = claims.get("sub")
    if not isinstance(client_id, str) or not client_id:
        raise invalid_client("the sub claim must be the client_id")
    if form.get("client_id") not in (None, client_id):
        raise invalid_client("client_id does not match the assertion")
    app = _active_app(session, client_id)
    if app.token_endpoint_auth_method != "private_key_jwt":  # noqa: S105 - a method name
        raise invalid_client("this client is not registered for private_key_jwt")
    try:
        # Only the keys registered for the client verify: jwk, jku, x5u or x5c in the header are
        # never trusted.
        verified = jwt.decode(assertion, keys(app), algorithms=[header["alg"]])
    except JoseError:
        raise invalid_client("the client assertion signature does not verify") from None
    _check_claims(verified.claims, client_id, issuer)
    jti, exp, iat = verified.claims["jti"], verified.claims["exp"], verified.claims["iat"]
    # RFC 7523 §3 (7): the authorization server MAY ensure JWTs are not replayed by maintaining
    # the set of used jti values for the length of time for which the JWT would be valid; one
    # issued before the store started may have been used in the store that was lost.
    outcome = replay(f"assertion:{client_id}:{jti}", int(exp - time.time()) + MAX_SKEW, iat)
    if outcome is Outcome.SEEN:
        raise invalid_client("this client assertion has been used before")
    if outcome is Outcome.EARLIER:
        raise invalid_client(
            "this client assertion was made before the replay store started (it restarted): "
            "make a new one"
        )
    return app


def _unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        compact = extract_compact(assertion.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise invalid_client("client_assertion is not a well-formed JWT") from None
    if not isinstance(claims, dict):
        raise invalid_client("client_assertion claims are not a JSON object")
    return dict(compact.headers()), claims


def _check_claims(claims: Mapping[str, Any], client_id: str, issuer: str) -> None:
    now = time.time()
    # RFC 7523 §3 (1): iss MUST be the client_id; (2) so MUST sub.
    if claims.get("iss") != client_id:
        raise invalid_client("the iss claim must be the client_id")
    # FAPI 2.0 §5.3.2.1 (8): the issuer identifier is the audience.
    aud = claims.get("aud")
    if aud != issuer and aud != [issuer]:
        raise invalid_client("the aud claim must be the issuer identifier")
    for name in ("exp", "iat", "jti"):
        if name not in claims:
            raise invalid_client(f"the {name} claim is required")
    exp, iat = claims["exp"], claims["iat"]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, iat)):
        raise invalid_client("exp and iat must be numbers")
    # RFC 7523 §3 (4): the JWT MUST contain an exp claim; it MUST be rejected once expired.
    if exp <= now:
        raise invalid_client("the client assertion has expired")
    if iat > now + MAX_SKEW:
        raise invalid_client("the client assertion is issued in the future")
    if exp - iat > MAX_LIFETIME:
        raise invalid_client(f"a client assertion may live at most {MAX_LIFETIME} seconds")
    # RFC 7523 §3 (6): a JWT with an nbf claim MUST be rejected before that time.
    nbf = claims.get("nbf")
    if nbf is not None:
        if not isinstance(nbf, int | float) or isinstance(nbf, bool):
            raise invalid_client("nbf must be a number")
        if nbf > now + MAX_SKEW:
            raise invalid_client("the client assertion is not valid yet (nbf)")
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise invalid_client("the jti claim must be a non-empty string")


def registered_keys(fetch: Callable[[str], dict[str, Any]]) -> KeyResolver:
    """Return a resolver of an app's registered public keys (inline JWKS or its ``jwks_uri``)."""

    def resolve(app: App) -> KeySet:
        try:
            data = app.jwks if app.jwks else fetch(app.jwks_uri) if app.jwks_uri else None
        except PartnerError as exc:
            raise invalid_client(f"the client's jwks_uri cannot be used: {exc.message}") from None
        if not data:
            raise invalid_client("the client has no registered keys")
        return _key_set(json.dumps(data, sort_keys=True))

    return resolve


@functools.lru_cache(maxsize=1024)
def _key_set(serialised: str) -> KeySet:
    """Parse a JWKS once per distinct content (keys are immutable: new keys, new content)."""
    try:
        return KeySet.import_key_set(json.loads(serialised))
    except (JoseError, ValueError, TypeError):
        raise invalid_client("the client's registered keys are unusable") from None


__all__ = ["ASSERTION_TYPE", "OAuthError", "authenticate", "registered_keys"]
