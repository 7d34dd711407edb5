"""Signed request objects pushed to PAR (RFC 9101 JAR, FAPI 2.0 Message Signing §5.3).

A client may push its authorization request as a JWT in the ``request`` parameter, signed with a
key of its registered JWKS. When it does, the parameters inside the object are the request:
RFC 9101 §6.3, "The authorization server MUST only use the parameters in the Request Object,
even if the same parameter is provided in the query parameter." Every failure is
``invalid_request_object`` (RFC 9101 §6.2, RFC 9126 §2.3).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from gateway.oauth.errors import OAuthError
from partners.models import App

# FAPI 2.0 Security Profile §5.4.1: PS256 or ES256 (EdDSA is not offered here). "none", the
# HMAC algorithms and RS256 are refused.
ALGORITHMS = ("PS256", "ES256")
# RFC 9101 §4 recommends explicit typing; untyped objects (most OBIE clients) are accepted too.
TYPES = (None, "JWT", "oauth-authz-req+jwt")
# FAPI 2.0 Message Signing §5.3 (signed authorization requests): the server shall require an nbf
# no longer than 60 minutes in the past and an exp no longer than 60 minutes after the nbf.
MAX_AGE = 3600
MAX_LIFETIME = 3600
# How far ahead of our clock a client's may run (nbf in the future).
CLOCK_SKEW = 10
MAX_BYTES = 32768
# The JWT's own claims: they describe the object, not the authorization request.
ENVELOPE = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti", "sub"})

KeyResolver = Callable[[App], KeySet]


def invalid_request_object(description: str) -> OAuthError:
    """The request object is malformed, not verifiable with the client's keys, or expired."""
    return OAuthError("invalid_request_object", description)


def verify(value: str, app: App, *, issuer: str, keys: KeyResolver) -> dict[str, Any]:
    """Verify a request object of ``app`` and return the authorization parameters it carries."""
    if len(value) > MAX_BYTES:
        raise invalid_request_object(f"the request object is over {MAX_BYTES} bytes")
    if value.count(".") == 4:
        raise invalid_request_object("encrypted request objects are not supported; sign it")
    header = _header(value)
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise invalid_request_object(f"the request object alg must be {' or '.join(ALGORITHMS)}")
    registered = (app.client_metadata or {}).get("request_object_signing_alg")
    if registered is not None and alg != registered:
        # OIDC Dynamic Client Registration §2, request_object_signing_alg: "All Request Objects
        # from this Client MUST be rejected, if not signed with this algorithm."
        raise invalid_request_object(f"this client registered {registered} for request objects")
    if "crit" in header:
        raise invalid_request_object("no critical header extension is understood")
    if header.get("typ") not in TYPES:
        raise invalid_request_object("the request object typ must be oauth-authz-req+jwt")
    try:
        key_set = keys(app)
    except OAuthError as exc:
        raise invalid_request_object(exc.description) from None
    kid = header.get("kid")
    if kid is not None and not any(key.kid == kid for key in key_set.keys):
        # RFC 9101 §6.2: "If a kid Header Parameter is present, the key identified MUST be the
        # key used and MUST be a key associated with the client."
        raise invalid_request_object("the kid is not a key registered for this client")
    try:
        # Only the client's registered keys verify: jwk, jku, x5u or x5c are never trusted.
        claims = jwt.decode(value, key_set, algorithms=[alg]).claims
    except JoseError:
        # RFC 9101 §6.2: "If the key is not associated with the client or if signature
        # validation fails, the authorization server MUST return an invalid_request_object
        # error".
        raise invalid_request_object("the request object signature does not verify") from None
    _check(claims, app.client_id, issuer)
    return {name: v for name, v in claims.items() if name not in ENVELOPE}


def _header(value: str) -> dict[str, Any]:
    try:
        compact = extract_compact(value.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise invalid_request_object("the request object is not a well-formed JWS") from None
    if not isinstance(claims, dict):
        raise invalid_request_object("the request object's claims are not a JSON object")
    return dict(compact.headers())


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if value is None:
        raise invalid_request_object(f"the request object needs an {name} claim")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise invalid_request_object(f"{name} must be a number")
    return float(value)


def _check(claims: dict[str, Any], client_id: str, issuer: str) -> None:
    now = time.time()
    # RFC 9101 §4: a signed object carries iss (the client) and aud (the server); FAPI 2.0
    # requires both of the requests it signs.
    if claims.get("iss") != client_id:
        raise invalid_request_object("the iss claim must be the client_id")
    # FAPI 2.0 Message Signing §5.3: aud is, or is an array containing, the issuer identifier.
    aud = claims.get("aud")
    if aud != issuer and not (isinstance(aud, list) and issuer in aud):
        raise invalid_request_object("the aud claim must be the issuer identifier")
    # RFC 9101 §6.3: "The client ID values in the client_id request parameter and in the
    # Request Object client_id claim MUST be identical."
    if claims.get("client_id") != client_id:
        raise invalid_request_object("client_id in the request object must be this client's")
    # FAPI 2.0 Message Signing §5.3: exp and nbf are required.
    exp, nbf = _number(claims, "exp"), _number(claims, "nbf")
    if exp <= now:
        raise invalid_request_object("the request object has expired")
    if nbf > now + CLOCK_SKEW:
        raise invalid_request_object("the request object is not valid yet (nbf)")
    if nbf < now - MAX_AGE:
        raise invalid_request_object("nbf may be at most 60 minutes in the past")
    if exp - nbf > MAX_LIFETIME:
        raise invalid_request_object("exp may be at most 60 minutes after nbf")
    # RFC 9101 §4: "request and request_uri parameters MUST NOT be included in Request Objects."
    for name in ("request", "request_uri"):
        if name in claims:
            raise invalid_request_object(f"a request object must not carry {name}")
