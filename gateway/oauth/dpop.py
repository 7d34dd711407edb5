"""DPoP proofs (RFC 9449): sender-constraining tokens to a key the client holds.

:func:`verify_proof` performs every check of RFC 9449 §4.3 on the ``DPoP`` header of a request
and returns the JWK SHA-256 thumbprint (RFC 7638) of the proof's key, which a token binds as
``cnf.jkt`` and a resource request must match. Server nonces (§8, §9) are
:mod:`gateway.oauth.nonces`; the replay store a proof's ``jti`` is claimed in, and its start
marker, :mod:`gateway.oauth.replay`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc.errors import JoseError
from joserfc.jwk import Key, import_key

from gateway.oauth.errors import OAuthError, invalid_dpop_proof, use_dpop_nonce
from gateway.oauth.nonces import Nonces
from gateway.oauth.replay import CLIENT_CLOCK_AHEAD, Outcome, ReplayGuard

# FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA; we accept the two every client library supports.
ALGORITHMS = ("PS256", "ES256")
# How far a proof's iat may lie behind or ahead of our clock (RFC 9449 §11.1).
MAX_AGE = 300
MAX_SKEW = CLIENT_CLOCK_AHEAD
# A proof is a few hundred bytes; anything this large is an attack or a mistake.
MAX_PROOF_BYTES = 8192
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
# FAPI 2.0 §5.4.1: RSA keys shall have a minimum length of 2048 bits.
MIN_RSA_BITS = 2048
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_ES256 = ec.ECDSA(hashes.SHA256())
# RFC 7518 §3.5: RSASSA-PSS with SHA-256, MGF1 with SHA-256, a salt as long as the hash.
_PS256_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

REPLAYED = "this DPoP proof has been used before"
EARLIER = (
    "this DPoP proof was made before the replay store started (it restarted): sign a new one, "
    "with the nonce of this response's DPoP-Nonce"
)


@dataclass(frozen=True, slots=True)
class Proof:
    """A verified proof: the thumbprint of its key, its jti, and whether it carried a nonce of
    the server's (the client uses them: offer it the next)."""

    jkt: str
    jti: str
    nonce: bool = False


@functools.lru_cache(maxsize=4096)
def _public_key(canonical_jwk: str) -> tuple[Key, str]:
    """The key of a public JWK (given as canonical JSON) and its thumbprint.

    A client signs its proofs with one key for many requests: importing it once saves most of
    the cost of a proof that is not cryptography.
    """
    key = import_key(json.loads(canonical_jwk))
    return key, str(key.thumbprint())


def thumbprint(jwk: dict[str, Any]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding."""
    return str(import_key(jwk).thumbprint())


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
# RFC 3986 §2.3: the characters a URI never needs to percent-encode.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 §2: the characters a URI may hold (unreserved, reserved, and % of an encoding).
_URI = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NOT_URI = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]|%(?![0-9A-Fa-f]{2})")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# RFC 3986 §3: scheme "://" authority, then the path up to the query or fragment.
_ABSOLUTE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)([^?#]*)")
_KEPT_URL = 256


def access_token_hash(token: str) -> str:
    """Return the ``ath`` value of an access token: base64url(SHA-256(token))."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _normalise(url: str, *, target: bool = False) -> str | None:
    """:func:`normalise_htu` of a proof's ``htu``, or of a request's URL (``target``, made a URI
    by :func:`as_uri` first); kept for the short URLs a worker sees again (a partner calls the
    same few), so that the cache stays small."""
    if len(url) <= _KEPT_URL:
        return _kept(url, target)
    return normalise_htu(as_uri(url) if target else url)


@functools.lru_cache(maxsize=1024)
def _kept(url: str, target: bool) -> str | None:
    return normalise_htu(as_uri(url) if target else url)


def normalise_htu(url: str) -> str | None:
    """The URI ``url`` as ``htu`` compares it (RFC 9449 §4.3 (9)): without query and fragment,
    after the normalisation §4.2 points to (RFC 3986 §6.2.2 and §6.2.3): scheme and host in lower
    case, the scheme's default port dropped, an empty path as ``/``, percent-encodings in upper
    case and those of unreserved characters decoded (``%7E`` is ``~``). Nothing else is decoded:
    ``%2F`` is not ``/``, and ``%3F`` and ``%23`` are part of a path, not the start of its query
    or fragment. Dot segments stay: the server routes a path as it comes, and ``/a/../b`` is not
    ``/b`` to it. ``None`` when ``url`` is not an absolute URI."""
    if not _URI.fullmatch(url) or ("%" in url and _STRAY_PERCENT.search(url)):
        return None
    match = _ABSOLUTE.match(url)
    if match is None:
        return None
    scheme, authority, path = match.group(1).lower(), match.group(2).lower(), match.group(3)
    default = _DEFAULT_PORTS.get(scheme)
    if default and authority.endswith(default):
        authority = authority.removesuffix(default)
    elif authority.endswith(":"):
        authority = authority[:-1]
    if "%" in path:
        path = _ESCAPE.sub(_normalise_escape, path)
    return f"{scheme}://{authority}{path or '/'}"


def _normalise_escape(match: re.Match[str]) -> str:
    octet = chr(int(match.group(1), 16))
    return octet if octet in _UNRESERVED else "%" + match.group(1).upper()


def as_uri(url: str) -> str:
    """A request's URL as the client sent it, with what a URI cannot hold percent-encoded (the
    octets of a target some servers pass through: a space, a raw byte, a stray ``%``), so that
    :func:`normalise_htu` can read it. WSGI gives a target's octets as Latin-1 characters."""
    if _URI.fullmatch(url) and not ("%" in url and _STRAY_PERCENT.search(url)):
        return url
    return _NOT_URI.sub(_percent_encode, url)


def _percent_encode(match: re.Match[str]) -> str:
    text = match.group()
    octets = text.encode("latin-1") if ord(text) < 256 else text.encode("utf-8")
    return "".join(f"%{octet:02X}" for octet in octets)


def _modulus_bits(jwk: dict[str, Any]) -> int:
    """The size of an RSA JWK's modulus in bits (0 when it is not a base64url string)."""
    n = jwk.get("n")
    if not isinstance(n, str):
        return 0
    try:
        raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except ValueError:
        return 0
    return int.from_bytes(raw, "big").bit_length()


def header_values(value: str | None) -> list[str]:
    """The values of a request's ``DPoP`` header, given as ``headers.get("DPoP")``: a WSGI
    environ holds each header once (a server joins repeated fields with commas, which
    :func:`verify_proof` splits), and ``getlist`` would walk every header to find it."""
    return [] if value is None else [value]


def verify_proof(
    headers: list[str],
    *,
    method: str,
    url: str,
    replay: ReplayGuard,
    nonces: Nonces,
    access_token: str | None = None,
    now: float | None = None,
) -> Proof:
    """Check the DPoP header values of a request against RFC 9449 §4.3 and return the proof;
    ``url`` is the request's URL as the client sent it, its path still percent-encoded
    (:func:`gateway.edge.urls.endpoint_url`).

    Raises :class:`~gateway.oauth.errors.OAuthError`: ``invalid_dpop_proof``, or
    ``use_dpop_nonce`` when the proof needs a (new) nonce of the server's.
    """
    compact, header, claims = _parse(headers)
    jkt = _verify_signature(compact, header)
    current = time.time() if now is None else now
    _check_claims(claims, method=method, url=url, access_token=access_token, now=current)
    issued = _issued(claims, nonces, current)
    # §11.1: a proof is used once; its jti is remembered for as long as its iat is acceptable,
    # and a proof the store may have forgotten (issued before it started) is refused.
    outcome = replay(f"dpop:{jkt}:{claims['jti']}", MAX_AGE + MAX_SKEW, issued)
    if outcome is Outcome.SEEN:
        raise invalid_dpop_proof(REPLAYED)
    if outcome is Outcome.EARLIER:
        raise use_dpop_nonce(EARLIER, nonces.issue())
    return Proof(jkt=jkt, jti=claims["jti"], nonce="nonce" in claims)


def _issued(claims: dict[str, Any], nonces: Nonces, now: float) -> float:
    """The earliest the proof can have been presented, for the replay store: when its nonce was
    issued (our clock); without one, its iat less the skew we accept (a client's clock may run
    that far ahead of ours, and a proof it dated ahead and used just before the store restarted
    would otherwise look new afterwards). So for that long after a restart a proof without a
    nonce is asked for one (RFC 9449 §9), and what was used before it is refused."""
    # §4.3 (10): when the server provided a nonce, the nonce claim matches it (§8, §9).
    if "nonce" in claims:
        issued = nonces.issued_at(claims["nonce"], now)
        if issued is None:
            raise use_dpop_nonce(
                "the nonce is not one of ours or has expired: use this DPoP-Nonce", nonces.issue()
            )
        return issued
    if nonces.required:
        raise use_dpop_nonce(
            "a DPoP nonce is required: use this response's DPoP-Nonce", nonces.issue()
        )
    iat: float = claims["iat"]
    return iat - MAX_SKEW


@dataclass(frozen=True, slots=True)
class _Compact:
    """A proof's JWS Compact Serialization: what was signed, the signature, and the protected
    header as sent (base64url)."""

    signing_input: bytes
    signature: bytes
    protected: str


@functools.lru_cache(maxsize=1024)
def _header(protected: str) -> Any:
    """The JSON of a proof's protected header (``ValueError`` when it is none). A client sends
    the same header (its key) with every proof: it is decoded once. Callers only read it."""
    return json.loads(_b64(protected))


@functools.lru_cache(maxsize=1024)
def _key_of(protected: str) -> tuple[Key, str]:
    """:func:`_public_key` of the ``jwk`` of a protected header already checked, by the header
    as sent: no canonical JSON to write for the proofs of a key seen before."""
    jwk = _header(protected)["jwk"]
    return _public_key(json.dumps(jwk, sort_keys=True, separators=(",", ":")))


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _parse(headers: list[str]) -> tuple[_Compact, dict[str, Any], dict[str, Any]]:
    """The proof of the DPoP header values: its JWS, protected header and claims."""
    # §4.3 (1): there is not more than one DPoP HTTP request header field. Servers may combine
    # repeated fields into one value separated by commas (RFC 9110 §5.3); a JWT has no comma.
    values = [part for header in headers for part in header.split(",")]
    if len(values) != 1:
        raise invalid_dpop_proof("exactly one DPoP header is required")
    value = values[0].strip()
    if len(value) > MAX_PROOF_BYTES:
        raise invalid_dpop_proof("the DPoP proof is too large")
    # §4.3 (2): the DPoP header value is a single well-formed JWT (a JWS Compact Serialization,
    # RFC 7515 §7.1: three base64url parts).
    try:
        protected, payload, signature = value.split(".")
        if not _BASE64URL.fullmatch(f"{protected}{payload}{signature}"):
            raise ValueError(value)
        header = _header(protected)
        claims = json.loads(_b64(payload))
        compact = _Compact(f"{protected}.{payload}".encode("ascii"), _b64(signature), protected)
    except (ValueError, UnicodeError):
        raise invalid_dpop_proof("the DPoP proof is not a well-formed JWT") from None
    if not isinstance(header, dict):
        raise invalid_dpop_proof("the DPoP proof is not a well-formed JWT")
    if not isinstance(claims, dict):
        raise invalid_dpop_proof("the DPoP proof claims are not a JSON object")
    return compact, header, claims


def _verify_signature(compact: _Compact, header: dict[str, Any]) -> str:
    """Check the proof's header and signature; return the thumbprint of its key."""
    # §4.3 (4): the typ JOSE header parameter has the value dpop+jwt.
    if header.get("typ") != "dpop+jwt":
        raise invalid_dpop_proof("typ must be dpop+jwt")
    # §4.3 (5): alg is a registered asymmetric algorithm, not none, and one we support.
    if header.get("alg") not in ALGORITHMS:
        raise invalid_dpop_proof(f"alg must be one of {', '.join(ALGORITHMS)}")
    if "crit" in header:
        raise invalid_dpop_proof("no critical header extension is understood")
    jwk = header.get("jwk")
    # §4.3 (7): the jwk JOSE header parameter does not contain a private key.
    if not isinstance(jwk, dict) or any(m in jwk for m in _PRIVATE_MEMBERS):
        raise invalid_dpop_proof("jwk must be a public key")
    if jwk.get("kty") == "RSA" and _modulus_bits(jwk) < MIN_RSA_BITS:
        raise invalid_dpop_proof(f"RSA keys must have at least {MIN_RSA_BITS} bits")
    # §4.3 (6): the JWT signature verifies with the public key contained in the jwk header.
    try:
        key, jkt = _key_of(compact.protected)
    except (JoseError, ValueError, TypeError, KeyError):
        # joserfc raises ValueError for a point off the curve or an impossible RSA exponent.
        raise invalid_dpop_proof("jwk is not a valid public key") from None
    if (header["alg"], key.key_type) not in (("ES256", "EC"), ("PS256", "RSA")):
        raise invalid_dpop_proof(f"a {header['alg']} proof needs a key of its kind")
    if not _verifies(key, header["alg"], compact):
        raise invalid_dpop_proof("the DPoP proof signature does not verify")
    return jkt


def _verifies(key: Key, alg: str, compact: _Compact) -> bool:
    """Whether ``compact``'s signature verifies with ``key`` under ``alg`` (RFC 7518 §3.4 and
    §3.5), by the key's own cryptography: every API call checks one proof."""
    public = key.raw_value
    signature = compact.signature
    try:
        if alg == "ES256":
            # RFC 7518 §3.4: R and S, 32 bytes each, concatenated.
            if len(signature) != 64 or not isinstance(public, ec.EllipticCurvePublicKey):
                return False
            if public.curve.name != "secp256r1":
                return False
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            public.verify(encode_dss_signature(r, s), compact.signing_input, _ES256)
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, compact.signing_input, _PS256_PADDING, hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _check_claims(
    claims: dict[str, Any], *, method: str, url: str, access_token: str | None, now: float
) -> None:
    """Check the proof's claims against the request (RFC 9449 §4.3 (3), (8), (9), (11), (12))."""
    # §4.3 (3): all required claims are present.
    for name in ("jti", "htm", "htu", "iat"):
        if name not in claims:
            raise invalid_dpop_proof(f"the {name} claim is required")
    if not isinstance(claims["jti"], str) or not 8 <= len(claims["jti"]) <= 256:
        raise invalid_dpop_proof("jti must be a unique string")
    # §4.3 (8): the htm claim matches the HTTP method of the current request.
    if claims["htm"] != method:
        raise invalid_dpop_proof("htm does not match the request method")
    # §4.3 (9): the htu claim matches the HTTP URI of the current request, ignoring query and
    # fragment: the URI as the client sent it, both normalised alike (§4.2).
    htu = claims["htu"]
    normalised = _normalise(htu) if isinstance(htu, str) else None
    if normalised is None or normalised != _normalise(url, target=True):
        raise invalid_dpop_proof("htu does not match the request URI")
    # §4.3 (11): the creation time is within an acceptable window.
    iat = claims["iat"]
    # A finite number: JSON parsers in Python accept NaN and Infinity, and every comparison with
    # NaN is false, so a NaN iat would pass the window check below.
    if not isinstance(iat, int | float) or isinstance(iat, bool) or not math.isfinite(iat):
        raise invalid_dpop_proof("iat must be a finite number")
    if iat > now + MAX_SKEW or iat < now - MAX_AGE:
        raise invalid_dpop_proof("iat is outside the acceptable window")
    # §4.3 (12): with an access token, ath equals the hash of that token.
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise invalid_dpop_proof("ath does not match the access token")


def require_binding(proof: Proof | None, jkt: str | None) -> None:
    """Refuse a request whose proof's key is not the one the token or code is bound to."""
    if jkt is None:
        return
    if proof is None:
        raise invalid_dpop_proof("this token is bound to a DPoP key: a DPoP proof is required")
    if proof.jkt != jkt:
        raise OAuthError("invalid_dpop_proof", "the DPoP proof is signed by another key")
