"""Signing a response body the way partners sign requests (the profile's Process for Signing a
Payload): a detached JWS in compact form over the body exactly as sent, with the three critical
OBIE header parameters.

The bank signs with the authorization server's active key (:mod:`gateway.oauth.keys`, ES256),
whose ``kid`` its ``/jwks`` publishes; ``iss`` is the bank's issuer URL (``GATEWAY_ISSUER``, the
``iss`` of its ID tokens too), ``tan`` the trust anchor (``GATEWAY_JWS_TRUST_ANCHOR``, by default
the issuer's host name), ``iat`` the time of signing in whole seconds.
"""

from __future__ import annotations

import datetime as dt

from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from gateway.api.message_signing.header import CRITICAL, IAT, ISS, TAN
from gateway.api.message_signing.verification import REGISTRY


def detached_header(
    *, alg: str, kid: str, iss: str, tan: str, now: dt.datetime
) -> dict[str, object]:
    """The JOSE header of a detached OBIE signature."""
    return {
        "alg": alg,
        "kid": kid,
        "typ": "JOSE",
        IAT: int(now.timestamp()),
        ISS: iss,
        TAN: tan,
        "crit": list(CRITICAL),
    }


def sign_body(
    body: bytes,
    *,
    key: ECKey | RSAKey,
    kid: str,
    alg: str,
    iss: str,
    tan: str,
    now: dt.datetime,
) -> str:
    """The ``x-jws-signature`` value for ``body``: ``header..signature`` (RFC 7515 Appendix F)."""
    header = detached_header(alg=alg, kid=kid, iss=iss, tan=tan, now=now)
    value = jws.serialize_compact(header, body, key, algorithms=[alg], registry=REGISTRY)
    return jws.detach_content(value)
