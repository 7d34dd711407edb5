"""OpenID Connect on the authorization server: the ``claims`` request parameter that names the
consent (the UK Open Banking intent binding) and the ID token the token endpoint returns.

UK Open Banking partners name the consent ("intent") they want authorised as an essential claim::

    {"id_token": {"openbanking_intent_id": {"value": "aac-...", "essential": true}},
     "userinfo": {"openbanking_intent_id": {"value": "aac-...", "essential": true}}}

With the ``openid`` scope the token endpoint answers with an ID token (OIDC Core §3.1.3.3):

* ``sub`` is the consent id, the same value as ``openbanking_intent_id``. The OBIE profile lets
  an ASPSP use the intent id or a pairwise customer identifier; the consent id is stable for the
  life of the consent (refreshes and re-authentication keep it, as OIDC Core §12.2 asks), is
  known to this client only (a consent belongs to one client, so no two clients can correlate a
  customer through it: the ``pairwise`` subject type of OIDC Core §8), and tells nothing about
  the customer beyond what the client already holds;
* ``acr`` is ``urn:openbanking:psd2:sca``: the bank's sign-in stands for the strong customer
  authentication of PSD2 (in the sandbox a test customer's password);
* ``auth_time`` is when the customer approved; ``nonce`` is echoed when the request had one.

Authlib's OIDC core builds and signs the token (``generate_id_token``: the registered claims,
``at_hash``); the key is the server's active signing key, published at ``/jwks``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from authlib.oidc.core.grants.util import generate_id_token
from sqlalchemy.orm import Session

from gateway.oauth import keys
from gateway.oauth.errors import invalid_request

INTENT_CLAIM = "openbanking_intent_id"
# OBIE: the authentication context of a PSD2 strong customer authentication.
ACR = "urn:openbanking:psd2:sca"
ID_TOKEN_TTL = dt.timedelta(minutes=10)
# The members of the claims request this server answers (OIDC Core §5.5); others are ignored.
MEMBERS = ("id_token", "userinfo")
# What an ID token of this server carries (OIDC Core §2 and the OBIE intent claim).
CLAIMS_SUPPORTED = (
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "at_hash",
    INTENT_CLAIM,
)


@dataclass(frozen=True, slots=True)
class Authentication:
    """What an ID token says: who the token is for, which consent, when the customer signed in
    and the request's nonce (``None`` after a refresh: OIDC Core §12.2)."""

    client_id: str
    consent_id: str
    auth_time: dt.datetime
    nonce: str | None = None


def parse_claims(value: object) -> dict[str, Any]:
    """The claims request (OIDC Core §5.5) of a form value (JSON text) or of a request object
    (a JSON object, OIDC Core §6.1); ``invalid_request`` when it is malformed."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise invalid_request("claims must be a JSON object (OIDC Core §5.5)") from None
    if not isinstance(value, dict):
        raise invalid_request("claims must be a JSON object (OIDC Core §5.5)")
    for member in MEMBERS:
        requested = value.get(member)
        if requested is None:
            continue
        if not isinstance(requested, dict):
            raise invalid_request(f"claims.{member} must be a JSON object")
        for name, rule in requested.items():
            # OIDC Core §5.5: each claim is requested with null or a JSON object.
            if rule is not None and not isinstance(rule, dict):
                raise invalid_request(f"claims.{member}.{name} must be null or a JSON object")
    _check_acr(value)
    return value


def requested_intent(claims: dict[str, Any]) -> str | None:
    """The consent a claims request names, if any; ``invalid_request`` when it names it without
    a value, or names two."""
    found: set[str] = set()
    for member in MEMBERS:
        requested = claims.get(member) or {}
        if INTENT_CLAIM not in requested:
            continue
        value = (requested[INTENT_CLAIM] or {}).get("value")
        if not isinstance(value, str) or not value:
            raise invalid_request(
                f"claims.{member}.{INTENT_CLAIM} must carry the consent id as its value"
            )
        found.add(value)
    if len(found) > 1:
        raise invalid_request(f"claims name two different {INTENT_CLAIM} values")
    return found.pop() if found else None


def _check_acr(claims: dict[str, Any]) -> None:
    """OIDC Core §5.5.1.1: when acr is an Essential Claim with values, the ID token's acr MUST
    match one of them, and if that cannot be met the outcome is a failed authentication. This
    server authenticates customers one way, so such a request is refused at once."""
    rule = (claims.get("id_token") or {}).get("acr")
    if not rule or not rule.get("essential"):
        return
    values = rule.get("values") if "values" in rule else [rule.get("value")]
    if isinstance(values, list) and any(v is not None for v in values) and ACR not in values:
        raise invalid_request(f"an essential acr cannot be met: this server gives {ACR}")


def id_token(
    session: Session, authentication: Authentication, *, issuer: str, access_token: str
) -> str:
    """A signed ID token (OIDC Core §2, §3.1.3.3) for the token response."""
    kid, key = keys.active_key(session)
    auth_time = authentication.auth_time
    if auth_time.tzinfo is None:
        auth_time = auth_time.replace(tzinfo=dt.UTC)
    token: str = generate_id_token(
        {"access_token": access_token},
        {"sub": authentication.consent_id, INTENT_CLAIM: authentication.consent_id},
        key,
        iss=issuer,
        aud=authentication.client_id,
        alg=keys.SIGNING_ALG,
        exp=int(ID_TOKEN_TTL.total_seconds()),
        nonce=authentication.nonce,
        auth_time=int(auth_time.timestamp()),
        acr=ACR,
        kid=kid,
    )
    return token
