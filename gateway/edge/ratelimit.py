"""Rate limits and quotas per app (Flask-Limiter), by the app's tier.

Each app has a tier (``sandbox`` by default, ``standard`` for production apps, others by ops);
``GATEWAY_RATE_LIMIT_TIERS`` maps tiers to limit strings such as ``"20/second;1000/minute"``.
Counters live in Redis when ``GATEWAY_REDIS_URL`` is set (shared by every worker), in memory
otherwise. The limiter fails open when Redis is unreachable (a logged warning, the request is
served): money never depends on Redis, and neither should availability.

Responses carry ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``; a refused
request gets 429 with ``Retry-After`` and the OBIE error body.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, Response, request
from flask_limiter import HeaderNames, Limiter, RequestLimit
from limits.storage import MemoryStorage

from gateway.edge.errors import ErrorDetail, error_response
from gateway.oauth import protector
from gateway.oauth.tokens import AccessToken

log = logging.getLogger(__name__)
API_PREFIX = "/open-banking/"
_LIMITER_RETRY_AFTER = "X-Limiter-Retry-After"
DEFAULT_TIERS = {
    "sandbox": "20/second;1000/minute;50000/day",
    "standard": "50/second;5000/minute;1000000/day",
    "premium": "200/second;20000/minute",
}


class LazyExpiryMemoryStorage(MemoryStorage):
    """The in-process counter store, cleaning expired windows once a second.

    ``limits``' memory storage starts a cleanup thread 10 ms after every hit, which costs more
    than the rest of an API call; counters are checked against their expiry on every read
    anyway, so a lazier cleanup changes nothing but the cost.
    """

    STORAGE_SCHEME = ["gateway-memory"]  # noqa: RUF012 - the registry reads a list

    def _MemoryStorage__schedule_expiry(self) -> None:
        if not self.timer.is_alive():
            self.timer = threading.Timer(1.0, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
            self.timer.daemon = True
            self.timer.start()


def _token_of_request() -> AccessToken | None:
    """The live access token this request carries, if any (looked up once per request: the
    resource checks read the same lookup)."""
    _scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return protector.lookup(value.strip()) if value.strip() else None


def key() -> str:
    """Rate-limit key: the app, or the caller's address when there is no valid token (such a
    request is refused by the API anyway; it still counts against its address)."""
    token = _token_of_request()
    return f"app:{token.client_id}" if token else f"ip:{request.remote_addr}"


def _limits_for_request(app_config: dict[str, str]) -> str:
    token = _token_of_request()
    tier = token.tier if token else "sandbox"
    return app_config.get(tier) or app_config["sandbox"]


def _not_api() -> bool:
    return not request.path.startswith(API_PREFIX)


def _refused(limit: RequestLimit) -> Response:
    detail = ErrorDetail("U042", f"Rate limit exceeded: {limit.limit}; retry later")
    response = error_response(429, (detail,))
    response.headers["Retry-After"] = str(max(1, int(limit.reset_at - _now())))
    return response


def _now() -> float:
    import time

    return time.time()


def init_app(app: Flask) -> Limiter:
    """Install the per-app limits on the API routes."""
    tiers: dict[str, str] = {**DEFAULT_TIERS, **(app.config.get("RATE_LIMIT_TIERS") or {})}
    redis_url = app.config.get("REDIS_URL") or ""

    # Flask-Limiter would set Retry-After on every limited response; it writes it under a
    # private name instead, dropped here (a refusal carries its own, see _refused). Registered
    # before the limiter so that it runs after the limiter's hook (last registered, first run).
    @app.after_request
    def _drop_limiter_retry_after(response: Response) -> Response:
        response.headers.pop(_LIMITER_RETRY_AFTER, None)
        return response

    limiter = Limiter(
        key_func=key,
        app=app,
        default_limits=[lambda: _limits_for_request(tiers)],
        default_limits_exempt_when=_not_api,
        headers_enabled=True,
        header_name_mapping={
            HeaderNames.LIMIT: "RateLimit-Limit",
            HeaderNames.REMAINING: "RateLimit-Remaining",
            HeaderNames.RESET: "RateLimit-Reset",
            HeaderNames.RETRY_AFTER: _LIMITER_RETRY_AFTER,
        },
        storage_uri=redis_url or "gateway-memory://",
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1} if redis_url else {},
        strategy="fixed-window",
        swallow_errors=True,
        in_memory_fallback_enabled=bool(redis_url),
        on_breach=_refused,
        key_prefix="gateway",
    )
    app.extensions["rate_limiter"] = limiter

    return limiter
