"""Builders of good and forged JWTs for the security tests.

Everything here assembles compact JWS values by hand (RFC 7515 §7.1), so that a test can put any
header or payload in front of the server: ``alg`` ``none``, an HMAC keyed with a public key, an
unknown ``crit`` extension, an embedded attacker key, a payload that is not a JSON object.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

from joserfc.jwk import ECKey, RSAKey, import_key
from joserfc.jws import JWSRegistry

from tests.common.oauth import ISSUER, public

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Any algorithm, recommended or not: forging is the point.
_REGISTRY = JWSRegistry(algorithms=list(JWSRegistry.algorithms))
# Marks a claim or header member to leave out of what a builder would otherwise put in.
DROP: Any = object()


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def compact(header: dict[str, Any], payload: Any, signature: bytes = b"") -> str:
    """Assemble ``header.payload.signature`` without signing (payload: JSON value or bytes)."""
    return ".".join((b64url(_json(header)), b64url(_json(payload)), b64url(signature)))


def sign(header: dict[str, Any], payload: Any, private_jwk: dict[str, Any]) -> str:
    """Sign any header and payload with ``private_jwk`` under ``header["alg"]``, no checks."""
    signing_input = f"{b64url(_json(header))}.{b64url(_json(payload))}".encode("ascii")
    key = import_key(private_jwk)
    signature = _REGISTRY.get_alg(header["alg"]).sign(signing_input, key)
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


def unsigned(header: dict[str, Any], payload: Any) -> str:
    """The same JWT with ``alg`` ``none`` and an empty signature (RFC 7519 §6)."""
    return compact({**header, "alg": "none"}, payload)


def hs256_with_public_key(header: dict[str, Any], payload: Any, public_jwk: dict[str, Any]) -> str:
    """The key-confusion forgery: HS256 keyed with the bytes of the victim's *public* key."""
    secret = import_key(public(public_jwk)).as_pem(private=False)
    full = {**header, "alg": "HS256"}
    signing_input = f"{b64url(_json(full))}.{b64url(_json(payload))}".encode("ascii")
    return f"{signing_input.decode('ascii')}.{b64url(hmac.digest(secret, signing_input, 'sha256'))}"


def alg_of(private_jwk: dict[str, Any]) -> str:
    """The algorithm a key of this type signs with here: ES256 for P-256, PS256 for RSA."""
    return "ES256" if private_jwk["kty"] == "EC" else "PS256"


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **overrides}
    return {k: v for k, v in merged.items() if v is not DROP}


# -- client assertions (RFC 7523 §3) --------------------------------------------------------------


def assertion_claims(client_id: str, **overrides: Any) -> dict[str, Any]:
    """Valid private_key_jwt claims for ``client_id``; ``DROP`` removes one."""
    now = int(time.time())
    base = {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    return _merge(base, overrides)


def assertion_header(private_jwk: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The header of a client assertion signed with ``private_jwk``."""
    return _merge({"alg": alg_of(private_jwk), "kid": private_jwk["kid"]}, overrides)


def client_assertion(
    client_id: str,
    private_jwk: dict[str, Any],
    *,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A client assertion, signed for real, with header and claim overrides."""
    return sign(
        assertion_header(private_jwk, **(header or {})),
        assertion_claims(client_id, **claims),
        private_jwk,
    )


def assertion_form(client_id: str, assertion: str, **params: str) -> dict[str, str]:
    """Form parameters authenticating with ``assertion``."""
    return {
        **params,
        "client_id": client_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }


# -- request objects (RFC 9101, FAPI 2.0 Message Signing) ----------------------------------------


def request_object_claims(
    client_id: str, params: dict[str, Any], /, **overrides: Any
) -> dict[str, Any]:
    """The claims of a valid request object carrying ``params``; ``DROP`` removes one."""
    now = int(time.time())
    base = {
        **params,
        "client_id": client_id,
        "iss": client_id,
        "aud": ISSUER,
        "nbf": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    return _merge(base, overrides)


def request_object(
    client_id: str,
    private_jwk: dict[str, Any],
    params: dict[str, Any],
    /,
    *,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A request object signed with ``private_jwk``, with header and claim overrides."""
    head = _merge({"alg": alg_of(private_jwk), "kid": private_jwk["kid"]}, header or {})
    return sign(head, request_object_claims(client_id, params, **claims), private_jwk)


# -- DPoP proofs (RFC 9449 §4.2) ---------------------------------------------------------------


def ath(access_token: str) -> str:
    """base64url(SHA-256(access token)), the ``ath`` claim (RFC 9449 §4.2)."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def proof_parts(
    private_jwk: dict[str, Any],
    method: str,
    url: str,
    *,
    access_token: str | None = None,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a DPoP proof, with overrides (``DROP`` removes a member)."""
    jwk = {k: v for k, v in public(private_jwk).items() if k != "kid"}
    base_header = {"typ": "dpop+jwt", "alg": alg_of(private_jwk), "jwk": jwk}
    base: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if access_token is not None:
        base["ath"] = ath(access_token)
    return _merge(base_header, header or {}), _merge(base, claims)


def dpop_proof(
    private_jwk: dict[str, Any],
    method: str,
    url: str,
    *,
    access_token: str | None = None,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A DPoP proof signed with ``private_jwk``, with header and claim overrides."""
    head, body = proof_parts(
        private_jwk, method, url, access_token=access_token, header=header, **claims
    )
    return sign(head, body, private_jwk)


def jkt(private_jwk: dict[str, Any]) -> str:
    """The RFC 7638 thumbprint of a key, as ``dpop_jkt`` and ``cnf.jkt`` carry it."""
    return str(import_key(public(private_jwk)).thumbprint())


def attacker_key() -> dict[str, Any]:
    """A key nobody registered."""
    return ECKey.generate_key("P-256", auto_kid=True).as_dict(private=True)


def rsa_key() -> dict[str, Any]:
    """An RSA key nobody registered."""
    return RSAKey.generate_key(2048, auto_kid=True).as_dict(private=True)
