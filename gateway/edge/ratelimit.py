"""Rate limits and quotas per app, by the app's tier.

Each app has a tier (``sandbox`` by default, ``standard`` for production apps, others by ops);
``GATEWAY_RATE_LIMIT_TIERS`` maps tiers to limit strings such as ``"20/second;1000/minute"``,
parsed by the ``limits`` library (the notation of Flask-Limiter).

Windows are fixed and aligned on the clock: a per-minute limit resets on the minute, a daily
quota at midnight UTC. Counters live in the shared store (Redis when ``GATEWAY_REDIS_URL`` is set,
shared by every worker; the in-process stand-in otherwise), one key per caller, limit and window,
counted with ``INCR`` in the request's one round trip to the store
(:mod:`gateway.edge.roundtrip`). Whoever identifies the caller says whom to charge
(:func:`charge`: the authentication layer charges the app of a live token); a call nobody
charged is charged to its address. A refused call still counts. The limiter fails open when the
store is unreachable (a logged warning, the request is served): money never depends on Redis,
and neither should availability.

Responses of the APIs carry ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
(seconds until the window resets) for the limit closest to exhaustion, as the IETF draft
"RateLimit header fields for HTTP" describes; a refused request gets 429 with ``Retry-After`` and
the OBIE error body.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem, parse_many

from gateway.edge import roundtrip
from gateway.edge.context import this_g
from gateway.edge.errors import ErrorDetail, error_response
from gateway.edge.roundtrip import RoundTrip

DEFAULT_TIERS = {
    "sandbox": "20/second;1000/minute;50000/day",
    "standard": "50/second;5000/minute;1000000/day",
    "premium": "200/second;20000/minute",
}


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


class Limiter:
    """Counts the calls of each caller against its tier's limits in the shared store.

    ``clock`` gives the time windows are counted in (the wall clock; tests pin it, so that no
    test straddles a window's end)."""

    def __init__(
        self,
        tiers: Mapping[str, tuple[RateLimitItem, ...]],
        store: redis.Redis,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tiers = dict(tiers)
        self.store = store
        self.clock = clock

    def count(self, trip: RoundTrip, key: str, tier: str, now: float) -> None:
        """Count one call of ``key`` against every limit of ``tier`` in ``trip``; the windows
        after it are this request's ``g.rate_windows`` (none when the store did not answer).

        A counter is an ``INCR`` of a key named by its window; the one call that makes it (its
        count is 1) also gives it an expiry, once the window's round trip is back: one command a
        limit per call, and a short second round trip once a window per caller. (Should that
        second one fail, the key is never read again all the same: its name is its window.)"""
        items = self.tiers.get(tier) or self.tiers["sandbox"]
        counters = []
        for item in items:
            period = item.get_expiry()
            window = int(now // period)
            counters.append((f"ratelimit:{key}:{item.amount}/{period}:{window}", period + 1,
                             (window + 1) * period, item.amount))  # fmt: skip

        def settle(answers: Sequence[Any] | None) -> None:
            if answers is None:
                return
            g.rate_windows = [
                Window(amount, amount - int(count), end)
                for (_name, _expiry, end, amount), count in zip(counters, answers, strict=True)
            ]
            new = [
                (name, expiry)
                for (name, expiry, _end, _amount), count in zip(counters, answers, strict=True)
                if count == 1
            ]
            if new:
                self._expire(new)

        trip.add([("INCR", name) for name, _expiry, _end, _amount in counters], settle)

    def _expire(self, counters: Sequence[tuple[str, int]]) -> None:
        """Give new window counters their expiry (they only have to outlive their window)."""
        pipe = self.store.pipeline(transaction=False)
        for name, expiry in counters:
            pipe.expire(name, expiry)
        # The store just answered the window's count; a failure here costs a key, no more.
        with contextlib.suppress(redis.RedisError):
            pipe.execute()


def charge(key: str, tier: str) -> None:
    """Count this call against ``key``'s limits at ``tier`` (``app:<client id>``), in the
    request's round trip to the store."""
    limiter: Limiter = current_app.extensions["rate_limiter"]
    context = this_g()
    context.rate_charged = True
    limiter.count(roundtrip.current(context), key, tier, limiter.clock())


def charge_unknown_caller() -> None:
    """Charge a call nobody identified to its address (it is refused by the API anyway)."""
    if not g.get("rate_charged"):
        charge(f"ip:{request.remote_addr}", "sandbox")


def refusal() -> Response | None:
    """After the round trip: 429 when this call went over a limit, else ``None``."""
    context = this_g()
    windows: list[Window] | None = context.pop("rate_windows", None)
    if not windows:
        return None
    # The limit closest to exhaustion is the one reported (the latest reset among equals).
    context.rate_window = min(windows, key=lambda w: (w.remaining, -w.reset_at))
    exceeded = [w for w in windows if w.exceeded]
    if not exceeded:
        return None
    worst = max(exceeded, key=lambda w: w.reset_at)
    detail = ErrorDetail("U042", f"Rate limit exceeded: {worst.limit} calls; retry later")
    response = error_response(429, (detail,))
    now = current_app.extensions["rate_limiter"].clock()
    response.headers["Retry-After"] = str(max(1, math.ceil(worst.reset_at - now)))
    return response


def add_headers(response: Response) -> None:
    """The ``RateLimit-*`` headers of the limit closest to exhaustion."""
    window: Window | None = g.pop("rate_window", None)
    if window is not None:
        now = current_app.extensions["rate_limiter"].clock()
        headers = response.headers
        headers["RateLimit-Limit"] = str(window.limit)
        headers["RateLimit-Remaining"] = str(max(0, window.remaining))
        headers["RateLimit-Reset"] = str(max(0, math.ceil(window.reset_at - now)))


def init_app(app: Flask, store: redis.Redis) -> Limiter:
    """Keep the limits of every tier (checked with the rest of the configuration), counted in
    ``store``."""
    limiter = Limiter(parse_tiers(app.config.get("RATE_LIMIT_TIERS") or {}), store)
    app.extensions["rate_limiter"] = limiter
    return limiter
