"""Verifying a partner's ``x-jws-signature`` against the keys its app registered.

The profile's Process for Verifying a Signature: parse the detached JWS (:mod:`.header`),
validate its JOSE header, find the public key its ``kid`` names among the keys the signer
registered with the trust anchor (here: the app's ``jwks``, or the key set at its ``jwks_uri``,
fetched as :func:`partners.jwks.fetch_jwks` does), and verify the signature over the body as it
arrived (RFC 7515 §5.2, with the detached payload of Appendix F). The cryptography is joserfc's.

Who must sign: an app whose ``request_signing`` is on, and every production app whatever the
column says. A missing signature is then ``U019`` Signature.Missing. An app that switched signing
off (sandbox only) may still send one, and it is verified all the same: a partner testing its
signing sees what is wrong before it switches signing on. A signature that does not verify is
``U015`` Signature.Invalid.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey
from joserfc.registry import HeaderParameter

from gateway.api.message_signing.header import (
    ALGORITHMS,
    CRITICAL,
    HEADER,
    IAT,
    ISS,
    TAN,
    Detached,
    check,
    parse,
)
from gateway.edge.errors import ApiError
from partners.apps import signing_issuers
from partners.errors import PartnerError
from partners.models import App

# A jwks_uri -> its checked JWKS (partners.jwks.fetch_jwks, or a cached fetch of it).
JwksFetcher = Callable[[str], dict[str, Any]]
# The key type each algorithm signs with (RFC 7518 §3.4, §3.5).
KEY_TYPES = {"PS256": "RSA", "ES256": "EC"}


def _number(value: object) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("must be a number")


def _text(value: object) -> None:
    if not isinstance(value, str):
        raise ValueError("must be a string")


# The profile's private header parameters, so that joserfc accepts them in crit (RFC 7515
# §4.1.11); headers up to 2 kB (joserfc's default of 512 bytes is less than a long kid and iss
# take).
REGISTRY = jws.JWSRegistry(
    header_registry={
        IAT: HeaderParameter("OBIE: signed at", _number, True),
        ISS: HeaderParameter("OBIE: the signer", _text, True),
        TAN: HeaderParameter("OBIE: the trust anchor", _text, True),
    },
    algorithms=list(ALGORITHMS),
    strict_check_header=False,
)
REGISTRY.max_header_length = 2048
REGISTRY.max_signature_length = 2048


@dataclass(frozen=True, slots=True)
class Signatory:
    """What verifying needs of an app (a row of ``ptn_app``)."""

    client_id: str
    organisation_id: str
    software_id: str | None
    environment: str
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    request_signing: bool

    @classmethod
    def of(cls, app: App) -> Signatory:
        """The signatory of an app loaded through the ORM."""
        return cls(app.client_id, app.organisation_id, app.software_id, app.environment,
                   app.jwks, app.jwks_uri, app.request_signing)  # fmt: skip

    @property
    def must_sign(self) -> bool:
        """Whether its requests must carry a signature: production apps always sign."""
        return self.request_signing or self.environment != "sandbox"


@dataclass(frozen=True, slots=True)
class Verified:
    """A signature that verified: who signed, with which key and algorithm, when."""

    kid: str
    alg: str
    iss: str
    iat: float
    value: str


def verify_request(
    app: Signatory,
    raw_body: bytes,
    header: str | None,
    *,
    now: dt.datetime,
    trust_anchor: str,
    fetch_jwks: JwksFetcher,
) -> Verified | None:
    """Verify the ``x-jws-signature`` ``header`` of a request with ``raw_body`` from ``app``
    (see the module's docstring); return what verified, or ``None`` when the app sent none and
    need not. Raise a 400 :class:`ApiError` with the code of the check that failed."""
    if header is None:
        if app.must_sign:
            raise ApiError.one(
                "U019", "This request must carry an x-jws-signature: a detached JWS of its body",
                path=HEADER,
            )  # fmt: skip
        return None
    detached = parse(header)
    issuers = signing_issuers(app.client_id, app.organisation_id, app.software_id)
    check(detached.header, issuers=issuers, trust_anchor=trust_anchor, now=now.timestamp())
    kid, alg = detached.header["kid"], detached.header["alg"]
    key = _registered_key(app, kid, alg, fetch_jwks)
    _verify_signature(detached, raw_body, key, kid, alg)
    return Verified(kid, alg, detached.header[ISS], detached.header[IAT], detached.value)


def _registered_key(app: Signatory, kid: str, alg: str, fetch: JwksFetcher) -> RSAKey | ECKey:
    """The app's registered key named ``kid``, fit to verify ``alg``; U016 otherwise."""
    try:
        data = app.jwks or (fetch(app.jwks_uri) if app.jwks_uri else None)
    except PartnerError as exc:
        raise ApiError.one(
            "U016", f"kid {kid!r} cannot be looked up: the app's jwks_uri failed: {exc.message}",
            path="kid",
        ) from None  # fmt: skip
    keys = _key_set(json.dumps(data or {"keys": []}, sort_keys=True))
    found = next((key for key in keys.keys if key.kid == kid), None)
    if found is None or not isinstance(found, RSAKey | ECKey):
        registered = ", ".join(repr(key.kid) for key in keys.keys) or "none"
        raise ApiError.one(
            "U016", f"kid {kid!r} is not a key of this app (registered: {registered})", path="kid"
        )
    use, key_alg = found.get("use"), found.get("alg")
    if use not in (None, "sig"):
        raise ApiError.one("U016", f"key {kid!r} is registered for {use!r}, not sig", path="kid")
    if found.key_type != KEY_TYPES[alg] or key_alg not in (None, alg):
        raise ApiError.one(
            "U016", f"alg {alg} does not fit key {kid!r} ({found.key_type}"
            f"{', alg ' + str(key_alg) if key_alg else ''})", path="alg",
        )  # fmt: skip
    return found


@functools.lru_cache(maxsize=256)
def _key_set(serialised: str) -> KeySet:
    """A registered JWKS parsed once per distinct content (registration checked it)."""
    data = json.loads(serialised)
    try:
        return KeySet.import_key_set(data)
    except (JoseError, ValueError, TypeError, KeyError):
        return KeySet([])


def _verify_signature(
    detached: Detached, raw_body: bytes, key: RSAKey | ECKey, kid: str, alg: str
) -> None:
    try:
        jws.deserialize_compact(
            detached.value, key, algorithms=[alg], registry=REGISTRY, payload=raw_body
        )
    except (JoseError, ValueError, TypeError) as exc:
        # The header was checked above, so what fails here is the signature itself.
        raise ApiError.one(
            "U015", f"The signature does not verify with key {kid!r} ({alg}) over the body as "
            f"received ({exc.__class__.__name__})", path=HEADER,
        ) from None  # fmt: skip


__all__ = ["CRITICAL", "JwksFetcher", "Signatory", "Verified", "verify_request"]
