"""Rate limits and quotas per app, by the app's tier.

Each app has a tier (``sandbox`` by default, ``standard`` for production apps, others by ops);
``GATEWAY_RATE_LIMIT_TIERS`` maps tiers to limit strings such as ``"20/second;1000/minute"``,
parsed by the ``limits`` library (the notation of Flask-Limiter).

Windows are fixed and aligned on the clock: a per-minute limit resets on the minute, a daily
quota at midnight UTC. Counters live in the shared store (Redis when ``GATEWAY_REDIS_URL`` is set,
shared by every worker; the in-process stand-in otherwise), one key per app, limit and window,
counted with a single pipelined round trip per request (``INCR`` and ``EXPIRE`` per limit, the
replay claim of the request's DPoP proof, checked here rather than in the view, and the read of
the authorisation epoch that confirms a token kept by the worker, see
:mod:`gateway.oauth.token_cache`). A refused call still counts. The limiter fails open when the
store is unreachable (a logged warning, the request is served): money never depends on Redis,
and neither should availability.

Responses of the APIs carry ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
(seconds until the window resets) for the limit closest to exhaustion, as the IETF draft
"RateLimit header fields for HTTP" describes; a refused request gets 429 with ``Retry-After`` and
the OBIE error body.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis
from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem, parse_many

from gateway.edge.errors import ErrorDetail, error_response
from gateway.oauth import protector, token_cache
from gateway.oauth.tokens import AccessToken
from gateway.store.kv import replay_entry

log = logging.getLogger(__name__)
API_PREFIX = "/open-banking/"
DEFAULT_TIERS = {
    "sandbox": "20/second;1000/minute;50000/day",
    "standard": "50/second;5000/minute;1000000/day",
    "premium": "200/second;20000/minute",
}
# While the store is unreachable, say so at most this often (seconds), not on every request.
WARN_EVERY = 60.0


def parse_tiers(configured: Mapping[str, str]) -> dict[str, tuple[RateLimitItem, ...]]:
    """The limits of every tier (defaults, overridden by ``configured``); ValueError names a
    tier whose limit string does not parse."""
    tiers: dict[str, tuple[RateLimitItem, ...]] = {}
    for tier, text in {**DEFAULT_TIERS, **configured}.items():
        try:
            items = tuple(parse_many(text))
        except ValueError:
            items = ()
        if not items:
            example = "'20/second;1000/minute'"
            raise ValueError(f"tier {tier!r}: {text!r} is not a limit such as {example}")
        tiers[tier] = items
    return tiers


@dataclass(frozen=True, slots=True)
class Window:
    """The state of one limit after this request: what the headers report."""

    limit: int
    remaining: int
    reset_at: float

    @property
    def exceeded(self) -> bool:
        """Whether this request went over the limit."""
        return self.remaining < 0


@dataclass(frozen=True, slots=True)
class Counted:
    """The answers of the edge's round trip: the windows of the limits, whether each replay
    claim was new, and the authorisation epoch (when asked for)."""

    windows: list[Window]
    fresh: list[bool]
    epoch: bytes | None


class Limiter:
    """Counts the calls of each app against its tier's limits in the shared store."""

    def __init__(self, store: redis.Redis, tiers: Mapping[str, tuple[RateLimitItem, ...]]) -> None:
        self.store = store
        self.tiers = dict(tiers)
        self._warned_at = -WARN_EVERY

    def hit(
        self,
        key: str,
        tier: str,
        now: float,
        claims: Sequence[tuple[str, int]] = (),
        *,
        read_epoch: bool = False,
    ) -> Counted | None:
        """Count one call of ``key`` against every limit of ``tier``, make the replay ``claims``
        (key, seconds) of :func:`gateway.kv.first_use`, and read the authorisation epoch of
        :mod:`gateway.oauth.token_cache` if asked (setting one if there is none), all in the same
        round trip.

        ``None`` when the store cannot be reached (the call is then not limited, the claims are
        not made and the epoch is not known)."""
        items = self.tiers.get(tier) or self.tiers["sandbox"]
        pipe = self.store.pipeline(transaction=False)
        ends: list[int] = []
        for item in items:
            period = item.get_expiry()
            window = int(now // period)
            counter = f"ratelimit:{key}:{item.amount}/{period}:{window}"
            pipe.incr(counter)
            # The key names its window, so it only has to outlive it.
            pipe.expire(counter, period + 1)
            ends.append((window + 1) * period)
        for claim, ttl in claims:
            name, value, expiry = replay_entry(claim, ttl)
            pipe.set(name, value, nx=True, ex=expiry)
        if read_epoch:
            pipe.set(token_cache.EPOCH_KEY, token_cache.new_epoch(), nx=True)
            pipe.get(token_cache.EPOCH_KEY)
        try:
            answers = pipe.execute()
        except redis.RedisError as exc:
            if now - self._warned_at >= WARN_EVERY:
                self._warned_at = now
                log.warning("rate limits not applied, the store is unreachable: %s", exc)
            return None
        counts = answers[: 2 * len(items) : 2]
        windows = [
            Window(item.amount, item.amount - int(count), end)
            for item, count, end in zip(items, counts, ends, strict=True)
        ]
        made = answers[2 * len(items) : 2 * len(items) + len(claims)]
        epoch = answers[-1] if read_epoch else None
        return Counted(windows, [bool(answer) for answer in made], epoch)


def _token_of_request() -> AccessToken | None:
    """The live access token this request carries, if any (looked up once per request: the
    resource checks read the same lookup)."""
    _scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return protector.lookup(value.strip()) if value.strip() else None


def _key(token: AccessToken | None) -> str:
    """Rate-limit key: the app, or the caller's address when there is no valid token (such a
    request is refused by the API anyway; it still counts against its address)."""
    return f"app:{token.client_id}" if token else f"ip:{request.remote_addr}"


def _check() -> Response | None:
    """Before an API request: count it, and refuse it when a limit is exceeded."""
    if not request.path.startswith(API_PREFIX):
        return None
    limiter: Limiter = current_app.extensions["rate_limiter"]
    # The token may come from the worker's cache: the epoch that confirms it rides with the count.
    read_epoch = protector.use_cache()
    token = _token_of_request()
    # A live token's DPoP proof is checked here, so that its replay claim rides with the count.
    claims = protector.check_at_edge() if token else []
    now = time.time()
    tier = token.tier if token else "sandbox"
    counted = limiter.hit(_key(token), tier, now, claims, read_epoch=read_epoch and bool(token))
    protector.settle_claims(counted.fresh if counted else None, counted.epoch if counted else None)
    if not counted:
        return None
    windows = counted.windows
    # The limit closest to exhaustion is the one reported (the latest reset among equals).
    g.rate_window = min(windows, key=lambda w: (w.remaining, -w.reset_at))
    exceeded = [w for w in windows if w.exceeded]
    if not exceeded:
        return None
    worst = max(exceeded, key=lambda w: w.reset_at)
    detail = ErrorDetail("U042", f"Rate limit exceeded: {worst.limit} calls; retry later")
    response = error_response(429, (detail,))
    response.headers["Retry-After"] = str(max(1, math.ceil(worst.reset_at - now)))
    return response


def _headers(response: Response) -> Response:
    window: Window | None = g.pop("rate_window", None)
    if window is not None:
        response.headers["RateLimit-Limit"] = str(window.limit)
        response.headers["RateLimit-Remaining"] = str(max(0, window.remaining))
        response.headers["RateLimit-Reset"] = str(max(0, math.ceil(window.reset_at - time.time())))
    return response


def init_app(app: Flask, store: redis.Redis) -> Limiter:
    """Install the per-app limits on the API routes, counting in ``store``."""
    # The tier strings were checked with the rest of the configuration (gateway.config).
    limiter = Limiter(store, parse_tiers(app.config.get("RATE_LIMIT_TIERS") or {}))
    app.extensions["rate_limiter"] = limiter
    app.before_request(_check)
    app.after_request(_headers)
    return limiter
