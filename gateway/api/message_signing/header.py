"""The ``x-jws-signature`` value: a detached JWS in compact form, and the rules of its header.

Where each rule comes from: the OBIE Read/Write Data API Profile v4.0, section Message Signing
("the profile": Specification; Step 2, Form the JOSE Header; Process for Verifying a Signature,
Steps 1 and 2), the OBIE knowledge base's Message Signing FAQ, and the RFCs named below.

* The value is a JWS Compact Serialization with an empty payload part (RFC 7515 Appendix F): the
  payload is the HTTP body exactly as sent (the FAQ: the raw payload, never a re-serialised one).
* ``b64`` is absent or ``true``: since v3.1.4 the profile no longer uses ``b64``, so the signing
  input is the base64url-encoded body (RFC 7515 §5.1); RFC 7797 unencoded payloads
  (``b64: false``) belonged to v3.1.3 and earlier (the FAQ).
* ``alg``: PS256 or ES256 (the algorithms of FAPI 2.0 Security Profile §5.4, which v4.0 adopts).
* ``kid``: present; it must name one of the keys the signer registered (checked with the keys,
  :mod:`.verification`).
* ``typ``: optional, ``JOSE``; ``cty``: optional, ``json`` or ``application/json`` (RFC 7515
  §4.1.10: "json" stands for "application/json").
* ``http://openbanking.org.uk/iat``: a JSON number of seconds since the epoch, the time of
  signing, which must be in the past (:data:`MAX_SKEW` seconds of clock difference allowed).
* ``http://openbanking.org.uk/iss``: a string naming the signer. The trust anchor defines its
  form (the FAQ); ours: :func:`partners.apps.signing_issuers` for an app, the issuer URL for the
  bank.
* ``http://openbanking.org.uk/tan``: the domain name of the trust anchor hosting the signer's
  public key: ``GATEWAY_JWS_TRUST_ANCHOR``, by default the issuer's host name.
* ``crit``: exactly those three names, and ``b64`` only when ``b64`` is present (RFC 7797 §6).
  RFC 7515 §4.1.11: a name the recipient does not process makes the JWS invalid.

Refusals are OBIE errors (``OB_Internal_CodeSet``): ``U018`` Signature.Malformed when the value
cannot be parsed as a JWS; ``U017`` Signature.MissingClaim and ``U016`` Signature.InvalidClaim
with the header parameter's name as ``Path`` (as the code set asks). Every problem of a header
is reported at once, one error detail each.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypeGuard

from gateway.edge.errors import ApiError, ErrorDetail

HEADER = "x-jws-signature"
IAT = "http://openbanking.org.uk/iat"
ISS = "http://openbanking.org.uk/iss"
TAN = "http://openbanking.org.uk/tan"
CRITICAL = (IAT, ISS, TAN)
ALGORITHMS = ("PS256", "ES256")
# The profile: iat must be in the past; the clocks of two parties differ a little.
MAX_SKEW = 60
# No signature we accept comes near it (behind gunicorn, no header field passes 8190 bytes).
MAX_LENGTH = 8192
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)


@dataclass(frozen=True, slots=True)
class Detached:
    """A parsed ``x-jws-signature``: its JOSE header, and the value as sent."""

    header: dict[str, Any]
    value: str


def malformed(message: str) -> ApiError:
    """U018 Signature.Malformed: "could not be parsed as a valid JWS"."""
    return ApiError.one("U018", message, path=HEADER)


def _decode(segment: str, what: str) -> bytes:
    # RFC 7515 §2: base64url without padding, no other characters.
    if not _BASE64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise malformed(f"The JWS {what} is not base64url (RFC 7515 §2)")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise malformed(f"The JWS {what} is not base64url (RFC 7515 §2)") from None


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        # RFC 7515 §4: parsers MUST either reject duplicate Header Parameter names or keep the
        # last; rejecting leaves no doubt about what was signed.
        raise malformed("The JOSE header names a parameter twice (RFC 7515 §4)")
    return dict(pairs)


def parse(value: str) -> Detached:
    """Parse ``value`` as a detached JWS in compact form; raise U018 when it is not one."""
    if len(value) > MAX_LENGTH or not value.isascii():
        raise malformed(f"The x-jws-signature is not a compact JWS of at most {MAX_LENGTH} bytes")
    parts = value.strip().split(".")
    if len(parts) != 3:
        raise malformed("A compact JWS has three parts separated by dots (RFC 7515 §7.1)")
    protected, payload, signature = parts
    if payload:
        # RFC 7515 Appendix F: a detached JWS has an empty payload part; the body is the payload.
        raise malformed("The JWS payload part must be empty: the body is the payload (detached)")
    if not signature:
        raise malformed("The JWS has no signature part")
    _decode(signature, "signature")
    try:
        header = json.loads(_decode(protected, "header"), object_pairs_hook=_unique_members)
    except (UnicodeDecodeError, ValueError):
        raise malformed("The JOSE header is not a JSON object (RFC 7515 §4)") from None
    if not isinstance(header, dict):
        raise malformed("The JOSE header is not a JSON object (RFC 7515 §4)")
    return Detached(header, value.strip())


def _missing(name: str) -> ErrorDetail:
    return ErrorDetail("U017", f"The JOSE header has no {name}", name)


def _invalid(name: str, message: str) -> ErrorDetail:
    return ErrorDetail("U016", message, name)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _media_type(value: object, *accepted: str) -> bool:
    # RFC 7515 §4.1.9, §4.1.10: media type names compare case-insensitively.
    return isinstance(value, str) and value.lower() in accepted


def _form(header: dict[str, Any]) -> list[ErrorDetail]:
    """The members that say how the signature is made: b64, alg, kid, typ, cty."""
    problems: list[ErrorDetail] = []
    if "b64" in header and header["b64"] is not True:
        message = "b64 must be absent or true: v4.0 signs the body base64url-encoded (RFC 7515)"
        problems.append(_invalid("b64", message))
    alg = header.get("alg")
    if alg is None:
        problems.append(_missing("alg"))
    elif alg not in ALGORITHMS:
        problems.append(_invalid("alg", f"alg {alg!r} is not accepted: sign with PS256 or ES256"))
    kid = header.get("kid")
    if kid is None:
        problems.append(_missing("kid"))
    elif not isinstance(kid, str) or not kid:
        problems.append(_invalid("kid", "kid must be the non-empty id of a registered key"))
    if "typ" in header and not _media_type(header["typ"], "jose", "application/jose"):
        problems.append(_invalid("typ", f"typ {header['typ']!r} is not JOSE"))
    if "cty" in header and not _media_type(header["cty"], "json", "application/json"):
        problems.append(_invalid("cty", f"cty {header['cty']!r} is not application/json"))
    return problems


def _crit(header: dict[str, Any]) -> list[ErrorDetail]:
    crit = header.get("crit")
    if crit is None:
        return [_missing("crit")]
    expected = set(CRITICAL) | ({"b64"} if "b64" in header else set())
    if not isinstance(crit, list) or not all(isinstance(name, str) for name in crit):
        return [_invalid("crit", "crit must be an array of header parameter names")]
    if len(set(crit)) != len(crit):
        return [_invalid("crit", "crit names a header parameter twice")]
    absent = [name for name in CRITICAL if name not in crit]
    unknown = sorted(set(crit) - expected)
    if absent:
        return [_invalid("crit", f"crit must name {', '.join(CRITICAL)}; it lacks "
                         f"{', '.join(absent)}")]  # fmt: skip
    if unknown:
        # RFC 7515 §4.1.11: extensions a recipient does not understand make the JWS invalid.
        return [_invalid("crit", f"crit names {', '.join(unknown)}, which is not processed here")]
    return []


def _claims(
    header: dict[str, Any], issuers: Collection[str], trust_anchor: str, now: float
) -> list[ErrorDetail]:
    """The profile's three private header parameters."""
    problems: list[ErrorDetail] = []
    iat, iss, tan = (header.get(name) for name in CRITICAL)
    if IAT not in header:
        problems.append(_missing(IAT))
    elif not _is_number(iat):
        problems.append(_invalid(IAT, f"{IAT} must be a JSON number of seconds since the epoch"))
    elif iat > now + MAX_SKEW:
        problems.append(_invalid(IAT, f"{IAT} is in the future: {iat} is after {int(now)}"))
    if ISS not in header:
        problems.append(_missing(ISS))
    elif not isinstance(iss, str) or iss not in issuers:
        problems.append(_invalid(ISS, f"{ISS} {iss!r} does not name the signer; expected one of "
                                 f"{', '.join(issuers)}"))  # fmt: skip
    if TAN not in header:
        problems.append(_missing(TAN))
    elif tan != trust_anchor:
        problems.append(_invalid(TAN, f"{TAN} {tan!r} is not this trust anchor: {trust_anchor}"))
    return problems


def check(
    header: dict[str, Any], *, issuers: Collection[str], trust_anchor: str, now: float
) -> None:
    """Apply the profile's header rules (see the module's docstring) to a parsed header; raise
    one U017/U016 error naming every problem found."""
    problems = [*_form(header), *_crit(header), *_claims(header, issuers, trust_anchor, now)]
    if problems:
        raise ApiError(*problems)
