"""The resource side of OAuth: which token a request carries, and whether it may do this.

Bearer tokens (RFC 6750) only in the ``Authorization`` header, never in the query string or the
body (FAPI 2.0 §5.3.3 (3)); DPoP-bound tokens (RFC 9449 §7) only with the ``DPoP`` scheme and a
proof of the bound key carrying ``ath``. Failures answer 401 with a ``WWW-Authenticate``
challenge and the OBIE error body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from functools import wraps
from typing import ParamSpec, TypeVar

import redis
from flask import Flask, current_app, g, request

from gateway.consents.models import Consent
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_reader
from gateway.edge.urls import issuer
from gateway.oauth import dpop, scopes, token_cache, tokens
from gateway.oauth.errors import OAuthError
from gateway.oauth.models import Token
from gateway.oauth.token_cache import Entry, TokenCache
from gateway.oauth.views import replay_guard
from gateway.store import kv
from gateway.store.database import Database
from partners.models import App, Organisation

log = logging.getLogger(__name__)
P = ParamSpec("P")
# The bodies whose parameters request.form reads (RFC 6750 §2.2 names the first).
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
R = TypeVar("R")


class TokenRefused(Exception):
    """The request carries no usable access token; ``challenge`` is its WWW-Authenticate."""

    def __init__(
        self, message: str, *, scheme: str = "Bearer", error: str | None = "invalid_token"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error = error
        algs = f'algs="{" ".join(dpop.ALGORITHMS)}"'
        if error is None:
            # RFC 6750 §3.1: a request without any credentials gets no error code; it is told
            # both schemes it may use (RFC 9449 §7.1). The body says what is missing.
            self.challenge = f"Bearer, DPoP {algs}"
            return
        self.challenge = f'{scheme} error="{error}", error_description="{message}"'
        if scheme == "DPoP":
            self.challenge += f", {algs}"


def _unauthorised(exc: TokenRefused) -> ApiError:
    return ApiError.one(
        "U042", exc.message, status=401, headers={"WWW-Authenticate": exc.challenge}
    )


def lookup(value: str) -> tokens.AccessToken | None:
    """The live access token with this value, looked up once per request (the rate limiter
    asks before the view does): from the worker's :class:`~gateway.oauth.token_cache.TokenCache`
    when the edge reads the epoch in this request (:func:`use_cache`), else from the database."""
    cached: tuple[str, tokens.AccessToken | None] | None = g.get("access_lookup")
    if cached is None or cached[0] != value:
        cached = (value, _read(value))
        g.access_lookup = cached
    return cached[1]


def _read(value: str) -> tokens.AccessToken | None:
    cache: TokenCache | None = current_app.extensions.get("token_cache")
    if cache is None or not g.get("token_cache_usable"):
        return tokens.find_access(get_reader(), value)
    key = cache.key(value)
    entry = cache.get(key)
    if entry is not None and entry.token.expires_at > tokens.now():
        g.token_entry, g.token_from_cache = entry, True
        return entry.token  # type: ignore[no-any-return]
    seen = cache.epoch  # before the read: see gateway.oauth.token_cache
    row = tokens.find_access(get_reader(), value)
    if row is not None:
        g.token_entry = cache.put(key, row, seen)
    return row


def use_cache() -> bool:
    """Let this request's token come from the worker's cache (the edge calls this when it will
    read the authorisation epoch in its round trip to the store); tell whether there is one."""
    g.token_cache_usable = "token_cache" in current_app.extensions
    return bool(g.token_cache_usable)


def cache_entry() -> Entry | None:
    """The cache entry of this request's token, when the epoch read in this request confirmed it
    (a view may keep more in it, see :class:`~gateway.oauth.token_cache.Listing`)."""
    entry: Entry | None = g.get("token_entry")
    return entry if entry is not None and g.get("token_epoch") == entry.epoch else None


def presented_token() -> tokens.AccessToken:
    """Return the live access token of this request, presented as RFC 6750 §2.1 (Bearer) or
    RFC 9449 §7.1 (DPoP, with a proof of the bound key) require; raise :class:`TokenRefused`.

    The edge may have checked it already (see :func:`check_at_edge`)."""
    checked: tokens.AccessToken | TokenRefused | None = g.get("presented")
    if isinstance(checked, TokenRefused):
        raise checked
    return checked or _present(replay_guard)


def check_at_edge() -> list[tuple[str, int]]:
    """Check the request's token and DPoP proof before the view runs, and return the proof's
    replay claims (key, seconds) instead of making them: the rate limiter sends them in its own
    round trip to the store, and reports the answers with :func:`settle_claims`."""
    claims: list[tuple[str, int]] = []

    def defer(key: str, ttl: int) -> bool:
        claims.append((key, ttl))
        return True

    try:
        g.presented = _present(defer)
    except TokenRefused as exc:
        g.presented = exc
    return claims


def settle_claims(fresh: list[bool] | None, epoch: bytes | None = None) -> None:
    """Apply the answers of the edge's round trip to the claims of :func:`check_at_edge`: a
    proof seen before is refused (RFC 9449 §11.1); ``None`` (the store did not answer) leaves the
    check to the view, which refuses the request if the store still cannot answer.

    ``epoch`` is the authorisation epoch read in that round trip: a token that came from the
    cache under another epoch (or none) is read again from the database."""
    cache: TokenCache | None = current_app.extensions.get("token_cache")
    if cache is not None and epoch is not None:
        cache.observe(epoch)
        g.token_epoch = epoch
    entry: Entry | None = g.get("token_entry")
    if g.pop("token_from_cache", False) and (entry is None or entry.epoch != epoch):
        for name in ("token_entry", "access_lookup", "presented", "token_cache_usable"):
            g.pop(name, None)
        if fresh is not None:
            # The round trip made this proof's replay claims already: the answers follow.
            try:
                g.presented = _present(lambda _key, _ttl: True)
            except TokenRefused as exc:
                g.presented = exc
    if fresh is None:
        g.pop("presented", None)
    elif not all(fresh):
        g.presented = TokenRefused(dpop.REPLAYED, scheme="DPoP", error="invalid_dpop_proof")


def _present(replay: dpop.ReplayGuard) -> tokens.AccessToken:
    if "access_token" in request.args or (
        request.mimetype in _FORMS and "access_token" in request.form
    ):
        # RFC 6750 §2.3 is not allowed by FAPI 2.0: tokens travel in the header only.
        raise TokenRefused("access tokens are accepted in the Authorization header only")
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "dpop") or not value.strip():
        raise TokenRefused("an access token is required", error=None)
    value = value.strip()
    row = lookup(value)
    if row is None:
        raise TokenRefused("the access token is invalid, expired or revoked")
    if row.cnf_jkt:
        # RFC 9449 §7.1: a DPoP-bound token is presented with the DPoP scheme and a proof.
        if scheme != "dpop":
            raise TokenRefused("this token is DPoP-bound: use the DPoP scheme", scheme="DPoP")
        try:
            proof = dpop.verify_proof(
                request.headers.getlist("DPoP"),
                method=request.method,
                url=issuer() + request.path,
                replay=replay,
                access_token=value,
            )
            dpop.require_binding(proof, row.cnf_jkt)
        except OAuthError as exc:
            raise TokenRefused(exc.description, scheme="DPoP", error="invalid_dpop_proof") from None
    elif scheme == "dpop":
        raise TokenRefused("this token is not DPoP-bound: use the Bearer scheme")
    return row


def init_app(
    app: Flask, store: redis.Redis, watched: token_cache.Watched, inserts: Collection[str] = ()
) -> None:
    """Keep tokens in a per-worker cache as ``TOKEN_CACHE_SECONDS`` says, and after every commit
    that changes a token, a consent, an app or what ``watched`` names (the bank core's tables and
    columns behind :class:`~gateway.oauth.token_cache.Listing`, and ``inserts`` the tables whose
    new rows change it), set a new authorisation epoch.
    Every process does the latter, caching or not: the CLI's changes reach the servers too."""
    seconds = app.config.get("TOKEN_CACHE_SECONDS")
    if seconds is None:
        seconds = 0 if kv.is_fake(store) else 30
    cache = TokenCache(float(seconds)) if seconds > 0 else None
    if cache is not None:
        app.extensions["token_cache"] = cache

    def changed() -> None:
        epoch = token_cache.new_epoch()
        try:
            store.set(token_cache.EPOCH_KEY, epoch)
        except redis.RedisError as exc:
            log.error(
                "the authorisation epoch was not changed (%s): other workers may serve a token "
                "or consent this commit changed for up to their cache's age",
                exc,
            )
            if cache is not None:
                cache.clear()
            return
        if cache is not None:
            cache.observe(epoch)

    database: Database = app.extensions["database"]
    tables: dict[str, Collection[str] | None] = {
        Token.__tablename__: None,
        Consent.__tablename__: None,
        App.__tablename__: None,
        # Deleting an organisation deletes its apps, and their tokens, by ON DELETE CASCADE.
        Organisation.__tablename__: (),
    }
    token_cache.watch(database.sessions, {**tables, **watched}, changed, inserts=inserts)


def current_token(
    *, scope: str, grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
) -> tokens.AccessToken:
    """Return the live token of this request that carries ``scope`` and came from one of
    ``grant_types``; raise a 401 or 403 :class:`ApiError` otherwise."""
    try:
        row = presented_token()
    except TokenRefused as exc:
        raise _unauthorised(exc) from None
    if row.grant_type not in grant_types:
        raise _unauthorised(TokenRefused("this kind of token cannot be used here"))
    if scope not in scopes.split(row.scope):
        raise ApiError.one("U042", f"the token lacks the {scope} scope", status=403)
    g.token = row
    return row


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
