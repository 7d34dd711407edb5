"""The resource side of OAuth: which token a request carries, and whether it may do this.

Bearer tokens (RFC 6750) only in the ``Authorization`` header, never in the query string or the
body (FAPI 2.0 §5.3.3 (3)); DPoP-bound tokens (RFC 9449 §7) only with the ``DPoP`` scheme and a
proof of the bound key carrying ``ath``. Failures answer 401 with a ``WWW-Authenticate``
challenge and the OBIE error body.

:func:`identify` is the authentication step the edge runs before an API view: it finds the
token (from the worker's :mod:`~gateway.oauth.token_cache` or the database), charges its app's
rate limits, checks the DPoP proof, and adds the proof's replay claim (with the replay store's
start marker, :mod:`~gateway.oauth.replay`) and the token's versions to the request's one round
trip to the store. The view then asks :func:`current_token`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import redis
from flask import Request, current_app, g

from gateway.edge import ratelimit, roundtrip
from gateway.edge.context import this_g, this_request
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader
from gateway.edge.urls import endpoint_url
from gateway.oauth import dpop, replay, scopes, secrets, token_cache, tokens
from gateway.oauth.errors import OAuthError
from gateway.oauth.nonces import Nonces
from gateway.oauth.nonces import offer as offer_nonce
from gateway.oauth.token_cache import Entry, TokenCache
from gateway.oauth.views import replay_guard

P = ParamSpec("P")
R = TypeVar("R")
# The bodies whose parameters request.form reads (RFC 6750 §2.2 names the first).
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class TokenRefused(Exception):
    """The request carries no usable access token; ``challenge`` is its WWW-Authenticate."""

    def __init__(
        self,
        message: str,
        *,
        scheme: str = "Bearer",
        error: str | None = "invalid_token",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error = error
        # Besides the challenge: the DPoP-Nonce of a use_dpop_nonce refusal (RFC 9449 §9).
        self.headers = headers or {}
        algs = f'algs="{" ".join(dpop.ALGORITHMS)}"'
        if error is None:
            # RFC 6750 §3.1: a request without any credentials gets no error code; it is told
            # both schemes it may use (RFC 9449 §7.1). The body says what is missing.
            self.challenge = f"Bearer, DPoP {algs}"
            return
        self.challenge = f'{scheme} error="{error}", error_description="{message}"'
        if scheme == "DPoP":
            self.challenge += f", {algs}"


INVALID = "the access token is invalid, expired or revoked"


@dataclass(slots=True)
class _Presented:
    """What :func:`identify` found for this request's credentials."""

    scheme: str
    value: str
    digest: str
    entry: Entry | None
    token: tokens.AccessToken | None


def _credentials(req: Request) -> tuple[str, str]:
    scheme, _, value = req.headers.get("Authorization", "").partition(" ")
    return scheme.lower(), value.strip()


def identify() -> None:
    """The edge's authentication step for an API call (see the module's docstring)."""
    req = this_request()
    scheme, value = _credentials(req)
    if not value:
        return
    context = this_g()
    extensions = current_app.extensions
    cache: TokenCache | None = extensions.get("token_cache")
    digest = secrets.digest(value)
    # An entry past the cache's age is read again after the versions (_settle_versions).
    entry = cache.recall(digest) if cache is not None else None
    if entry is not None and entry.token.expires_at <= tokens.now():
        entry = None
    token = entry.token if entry is not None else tokens.find_access(get_reader(), value)
    found = context.found_token = _Presented(scheme, value, digest, entry, token)
    if token is None:
        return
    ratelimit.charge(f"app:{token.client_id}", token.tier)
    claims: list[tuple[str, int]] = []
    issued: list[float] = []

    def defer(key: str, ttl: int, issued_at: float) -> replay.Outcome:
        claims.append((key, ttl))
        issued.append(issued_at)
        return replay.Outcome.NEW

    nonces: Nonces = extensions["dpop_nonces"]
    try:
        context.presented = _present(req, scheme, value, token, defer, nonces)
    except TokenRefused as exc:
        context.presented = exc
    trip = roundtrip.current(context)
    if claims:
        store = extensions["redis"]
        trip.add(
            replay.commands(claims),
            lambda answers: _settle_claims(store, nonces, issued, answers),
        )
    if cache is not None and value.startswith(secrets.ACCESS_PREFIX):
        keys = entry.keys if entry is not None else token_cache.keys_of(digest, token)
        trip.add(
            token_cache.version_commands(keys, set_generation=not cache.generation_seen),
            lambda answers: _settle_versions(cache, found, answers),
        )


def _settle_claims(
    store: redis.Redis, nonces: Nonces, issued: list[float], answers: Sequence[Any] | None
) -> None:
    """A proof seen before is refused (RFC 9449 §11.1), and so is one made before the replay
    store started, with a new nonce (§9); with no answer the view checks again, and refuses the
    request if the store still cannot answer."""
    if answers is None:
        g.pop("presented", None)
        return
    outcome = replay.decide(store, issued, answers)
    if outcome is replay.Outcome.SEEN:
        g.presented = TokenRefused(dpop.REPLAYED, scheme="DPoP", error="invalid_dpop_proof")
    elif outcome is replay.Outcome.EARLIER:
        g.presented = TokenRefused(
            dpop.EARLIER, scheme="DPoP", error="use_dpop_nonce",
            headers={"DPoP-Nonce": nonces.issue()},
        )  # fmt: skip


def _settle_versions(cache: TokenCache, found: _Presented, answers: Sequence[Any] | None) -> None:
    """Serve a kept token only when its versions stand and its rows were read after them;
    otherwise read it again (after the versions: that read is kept, confirmed)."""
    entry = found.entry
    if answers is None:
        if entry is not None:
            cache.drop(found.digest)
            _replace(found, tokens.find_access(get_reader(), found.value))
        return
    versions = token_cache.versions_of(answers)
    cache.generation_seen = versions[0] is not None
    if entry is not None and entry.tags == versions and entry.confirmed and cache.young(entry):
        g.token_entry = entry
        return
    if entry is None and found.token is not None:
        cache.put(found.digest, found.token, versions, confirmed=False)
        return
    fresh = tokens.find_access(get_reader(), found.value)
    _replace(found, fresh)
    if fresh is None:
        cache.drop(found.digest)
    elif token_cache.keys_of(found.digest, fresh) == (entry.keys if entry else None):
        g.token_entry = cache.put(found.digest, fresh, versions, confirmed=True)


def _replace(found: _Presented, fresh: tokens.AccessToken | None) -> None:
    """Put the token read again in place of the kept one this request was checked with (its
    binding, and so the proof's check, is the same)."""
    found.token = fresh
    presented = g.get("presented")
    if fresh is None:
        g.presented = TokenRefused(INVALID)
    elif isinstance(presented, tokens.AccessToken):
        g.presented = fresh


def cache_entry() -> Entry | None:
    """The cache entry of this request's token when this call confirmed it (a view may keep more
    in it, see :class:`~gateway.oauth.token_cache.Listing`)."""
    entry: Entry | None = g.get("token_entry")
    return entry


def presented_token() -> tokens.AccessToken:
    """Return the live access token of this request, presented as RFC 6750 §2.1 (Bearer) or
    RFC 9449 §7.1 (DPoP, with a proof of the bound key) require; raise :class:`TokenRefused`.

    The edge may have checked it already (see :func:`identify`)."""
    checked: tokens.AccessToken | TokenRefused | None = g.get("presented")
    if isinstance(checked, TokenRefused):
        raise checked
    if checked is not None:
        return checked
    req = this_request()
    scheme, value = _credentials(req)
    _refuse_forms(req)
    if scheme not in ("bearer", "dpop") or not value:
        raise TokenRefused("an access token is required", error=None)
    found: _Presented | None = g.get("found_token")
    token = found.token if found is not None else tokens.find_access(get_reader(), value)
    if token is None:
        raise TokenRefused(INVALID)
    # Checked once a request: a second check would claim the DPoP proof's jti again.
    try:
        g.presented = _present(
            req, scheme, value, token, replay_guard, current_app.extensions["dpop_nonces"]
        )
    except TokenRefused as exc:
        g.presented = exc
        raise
    presented: tokens.AccessToken = g.presented
    return presented


def _refuse_forms(req: Request) -> None:
    # Most calls carry neither a query nor a body: nothing is parsed for them.
    environ = req.environ
    if (environ.get("QUERY_STRING") and "access_token" in req.args) or (
        environ.get("CONTENT_TYPE") and req.mimetype in _FORMS and "access_token" in req.form
    ):
        # RFC 6750 §2.3 is not allowed by FAPI 2.0: tokens travel in the header only.
        raise TokenRefused("access tokens are accepted in the Authorization header only")


def _present(
    req: Request,
    scheme: str,
    value: str,
    row: tokens.AccessToken,
    guard: replay.ReplayGuard,
    nonces: Nonces,
) -> tokens.AccessToken:
    _refuse_forms(req)
    if scheme not in ("bearer", "dpop"):
        raise TokenRefused("an access token is required", error=None)
    if row.cnf_jkt:
        # RFC 9449 §7.1: a DPoP-bound token is presented with the DPoP scheme and a proof.
        if scheme != "dpop":
            raise TokenRefused("this token is DPoP-bound: use the DPoP scheme", scheme="DPoP")
        try:
            proof = dpop.verify_proof(
                dpop.header_values(req.headers.get("DPoP")),
                method=req.method,
                url=endpoint_url(req),
                replay=guard,
                nonces=nonces,
                access_token=value,
            )
            dpop.require_binding(proof, row.cnf_jkt)
            if proof.nonce:
                # RFC 9449 §9: a client that uses nonces is given the next.
                offer_nonce(nonces)
        except OAuthError as exc:
            # invalid_dpop_proof, or use_dpop_nonce (RFC 9449 §9) with a DPoP-Nonce header.
            raise TokenRefused(
                exc.description, scheme="DPoP", error=exc.error, headers=exc.headers
            ) from None
    elif scheme == "dpop":
        raise TokenRefused("this token is not DPoP-bound: use the Bearer scheme")
    return row


def current_token(
    *, scope: str, grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
) -> tokens.AccessToken:
    """Return the live token of this request that carries ``scope`` and came from one of
    ``grant_types``; raise a 401 or 403 :class:`ApiError` otherwise."""
    try:
        row = presented_token()
    except TokenRefused as exc:
        raise unauthorised(exc) from None
    if row.grant_type not in grant_types:
        refused = TokenRefused(_needed(grant_types, row.grant_type))
        raise ApiError.one(
            "U042", refused.message, status=401, headers={"WWW-Authenticate": refused.challenge}
        )
    if scope not in scopes.split(row.scope):
        raise ApiError.one("U042", f"the token lacks the {scope} scope", status=403)
    g.token = row
    return row


def unauthorised(refused: TokenRefused) -> ApiError:
    """The 401 that answers a refused token: its challenge and the OBIE error body."""
    headers = {"WWW-Authenticate": refused.challenge, **refused.headers}
    return ApiError.one("U042", refused.message, status=401, headers=headers)


# What each grant's token is, in the words of a refusal that names the one needed.
_GRANTS = {
    "authorization_code": (
        "a token from a consent the customer authorised (the authorization code grant, or a "
        "refresh of it)"
    ),
    "refresh_token": "a token from a consent the customer authorised",
    "client_credentials": "a client credentials token (the client_credentials grant)",
}


def _needed(grant_types: tuple[str, ...], presented: str) -> str:
    """Why a token of another grant is refused: what this API needs, and what was sent."""
    needed = _GRANTS.get(grant_types[0], f"a token of the {grant_types[0]} grant")
    sent = _GRANTS.get(presented, f"a token of the {presented} grant").split(" (", 1)[0]
    return f"this API needs {needed}; this is {sent}"


def require_token(
    scope: str, grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a view so that it runs only with a valid token for ``scope``."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            current_token(scope=scope, grant_types=grant_types)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def init_cache(seconds: float | None, store_is_shared: bool) -> TokenCache | None:
    """The worker's token cache, as ``TOKEN_CACHE_SECONDS`` says (unset: 30 s with a shared
    store, off with the in-process one, which other workers cannot see)."""
    if seconds is None:
        seconds = 30 if store_is_shared else 0
    return TokenCache(float(seconds)) if seconds > 0 else None
