"""The resource side of OAuth: which token a request carries, and whether it may do this.

Bearer tokens (RFC 6750) only in the ``Authorization`` header, never in the query string or the
body (FAPI 2.0 §5.3.3 (3)); DPoP-bound tokens (RFC 9449 §7) only with the ``DPoP`` scheme and a
proof of the bound key carrying ``ath``. Failures answer 401 with a ``WWW-Authenticate``
challenge and the OBIE error body.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import g, request

from gateway.db import get_reader
from gateway.edge.errors import ApiError
from gateway.oauth import dpop, scopes, tokens
from gateway.oauth.errors import OAuthError
from gateway.oauth.views import issuer, replay_guard

P = ParamSpec("P")
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
    asks before the view does)."""
    cached: tuple[str, tokens.AccessToken | None] | None = g.get("access_lookup")
    if cached is None or cached[0] != value:
        cached = (value, tokens.find_access(get_reader(), value))
        g.access_lookup = cached
    return cached[1]


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


def settle_claims(fresh: list[bool] | None) -> None:
    """Apply the answers to the claims of :func:`check_at_edge`: a proof seen before is refused
    (RFC 9449 §11.1); ``None`` (the store did not answer) leaves the check to the view, which
    refuses the request if the store still cannot answer."""
    if fresh is None:
        g.pop("presented", None)
    elif not all(fresh):
        g.presented = TokenRefused(dpop.REPLAYED, scheme="DPoP", error="invalid_dpop_proof")


def _present(replay: dpop.ReplayGuard) -> tokens.AccessToken:
    if "access_token" in request.args or "access_token" in request.form:
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
