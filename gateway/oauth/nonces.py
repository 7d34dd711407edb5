"""Server-provided DPoP nonces (RFC 9449 §8 at the authorization server, §9 at the resources).

A nonce is the instant it was issued, in milliseconds, and an HMAC of that instant under a key
derived from the application's secret key: every worker on every host checks one without the
store, and nobody else can make one or move it in time. A nonce is offered in ``DPoP-Nonce`` (a
new one each second): by the authorization server in every answer to a request with a proof, by
the resources in every answer to a proof that carried one (the client uses them; the others
are spared the header on the API's hot path), and in every refusal that asks for one. A proof
that carries one (the ``nonce`` claim) is accepted while the nonce is at most :data:`LIFETIME`
seconds old, and is dated by it
for the replay store's start marker (:mod:`gateway.oauth.replay`): on our clock, to the
millisecond, whatever the client's clock says.

``GATEWAY_DPOP_NONCE`` says whether proofs must carry one. ``offered`` (the default): a proof
without a nonce is dated by its ``iat``, so clients that never heard of nonces (FAPI 2.0 does not
require them) keep working; ``required``: a proof without a valid nonce is refused with
``use_dpop_nonce`` and a fresh nonce, which an RFC 9449 client retries with. Either way a nonce a
proof carries must be valid, and a proof refused for its date is answered ``use_dpop_nonce``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Callable

from flask import Flask, Response, after_this_request

# How long a nonce is accepted (seconds): as long as a proof's iat is.
LIFETIME = 300
# How far ahead of this host's clock another host's nonce may be dated (seconds).
HOSTS_SKEW = 5
# How long the same nonce is offered before a new one is made (seconds).
REISSUE = 1.0
MODES = ("offered", "required")
_STAMP_BYTES = 6
_MAC_BYTES = 18
_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")  # base64url of 24 bytes


class Nonces:
    """Issues and checks the nonces of one application."""

    def __init__(self, secret_key: str | bytes, *, required: bool) -> None:
        secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
        self._key = hmac.digest(secret, b"gateway DPoP nonce", hashlib.sha256)
        self.required = required
        self._latest: tuple[str, float] | None = None
        # Clients send the nonce they were given for a while: it is checked once.
        self._stamp: Callable[[str], int | None] = functools.lru_cache(maxsize=256)(self._verify)

    def _mac(self, stamp: bytes) -> bytes:
        return hmac.digest(self._key, stamp, hashlib.sha256)[:_MAC_BYTES]

    def issue(self, now: float | None = None) -> str:
        """A new nonce, which :meth:`offered` hands out from now on."""
        issued = time.time() if now is None else now
        stamp = int(issued * 1000).to_bytes(_STAMP_BYTES, "big")
        nonce = base64.urlsafe_b64encode(stamp + self._mac(stamp)).decode("ascii")
        self._latest = (nonce, issued)
        return nonce

    def offered(self) -> str:
        """The nonce to offer in a response: the latest, made anew every :data:`REISSUE`
        seconds (one nonce per second, not per response: each is an HMAC to make and check)."""
        latest = self._latest
        if latest is not None and 0 <= time.time() - latest[1] < REISSUE:
            return latest[0]
        return self.issue()

    def issued_at(self, nonce: object, now: float | None = None) -> float | None:
        """The instant (seconds) ``nonce`` was issued, or ``None`` unless it is one of ours and
        still accepted."""
        if not isinstance(nonce, str):
            return None
        stamp = self._stamp(nonce)
        if stamp is None:
            return None
        issued = stamp / 1000
        current = time.time() if now is None else now
        if not current - LIFETIME <= issued <= current + HOSTS_SKEW:
            return None
        return issued

    def _verify(self, nonce: str) -> int | None:
        """The stamp of ``nonce`` (milliseconds) when this key made it."""
        if not _SHAPE.fullmatch(nonce):
            return None
        raw = base64.urlsafe_b64decode(nonce)
        stamp, mac = raw[:_STAMP_BYTES], raw[_STAMP_BYTES:]
        if not hmac.compare_digest(mac, self._mac(stamp)):
            return None
        return int.from_bytes(stamp, "big")


def init_app(app: Flask) -> Nonces:
    """The nonces of ``app``, made and checked with its secret key."""
    nonces = app.extensions["dpop_nonces"] = Nonces(
        app.config["SECRET_KEY"], required=app.config["DPOP_NONCE"] == "required"
    )
    return nonces


def offer(nonces: Nonces) -> None:
    """Offer the current nonce in the response to this request (RFC 9449 §8.2: in any response;
    §9 at a resource), unless the response gives one already (a refusal that asks for it)."""

    def add(response: Response) -> Response:
        if "DPoP-Nonce" not in response.headers:
            response.headers["DPoP-Nonce"] = nonces.offered()
        return response

    after_this_request(add)
