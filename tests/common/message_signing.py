"""Builders of OBIE message signatures (``x-jws-signature``) for the tests: good ones, and ones
with any JOSE header a test wants, signed for real (:func:`tests.common.jose.sign`) then
detached (RFC 7515 Appendix F)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from joserfc.jwk import import_key
from joserfc.jws import JWSRegistry

from gateway.api.message_signing import CRITICAL, IAT, ISS, TAN
from tests.common.jose import DROP, alg_of, b64url, sign

# Any algorithm: a test signs what it wants the server to refuse.
_REGISTRY = JWSRegistry(algorithms=list(JWSRegistry.algorithms))

# The instant the test-only blueprint's clock stands at (the sandbox's pinned start).
SIGNED_AT = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
TRUST_ANCHOR = "localhost"


def ob_header(
    private_jwk: dict[str, Any], signer: str, /, *, at: dt.datetime = SIGNED_AT, **overrides: Any
) -> dict[str, Any]:
    """A valid OBIE JOSE header for ``private_jwk``; overrides by name (``DROP`` removes one;
    the OBIE names as ``iat=``, ``iss=``, ``tan=``)."""
    named = {
        IAT: overrides.pop("iat", int(at.timestamp()) - 5),
        ISS: overrides.pop("iss", signer),
        TAN: overrides.pop("tan", TRUST_ANCHOR),
    }
    base = {
        "alg": alg_of(private_jwk),
        "kid": private_jwk["kid"],
        "typ": "JOSE",
        "cty": "application/json",
        **named,
        "crit": list(CRITICAL),
    }
    merged = {**base, **overrides}
    return {name: value for name, value in merged.items() if value is not DROP}


def detach(compact: str) -> str:
    """The detached form of a compact JWS: its payload part emptied."""
    protected, _payload, signature = compact.split(".")
    return f"{protected}..{signature}"


def signature(body: bytes, private_jwk: dict[str, Any], signer: str, /, **overrides: Any) -> str:
    """An ``x-jws-signature`` of ``body`` by ``signer`` (its iss), with a header from
    :func:`ob_header`."""
    return detach(sign(ob_header(private_jwk, signer, **overrides), body, private_jwk))


def unencoded(body: bytes, private_jwk: dict[str, Any], signer: str) -> str:
    """A signature of ``body`` as OBIE v3.1.3 and earlier made them: ``b64: false``, the body
    signed as it is (RFC 7797 §3), not base64url-encoded."""
    header = ob_header(private_jwk, signer, b64=False, crit=[*CRITICAL, "b64"])
    protected = b64url(json.dumps(header).encode())
    signing_input = protected.encode() + b"." + body
    raw = _REGISTRY.get_alg(header["alg"]).sign(signing_input, import_key(private_jwk))
    return f"{protected}..{b64url(raw)}"


__all__ = ["DROP", "SIGNED_AT", "TRUST_ANCHOR", "detach", "ob_header", "signature", "unencoded"]
