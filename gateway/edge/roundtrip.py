"""One round trip to the shared store per API call, for every layer that needs one.

The rate limits count the call, the authentication claims its DPoP proof's ``jti`` and asks
whether the token it keeps is still current: three questions for Redis, one round trip. A layer
adds its commands with :meth:`RoundTrip.add` and a function that takes their answers; the edge
sends everything at once (:meth:`RoundTrip.run`) after the layers have spoken and before the view
runs, then hands each its answers, or ``None`` when the store could not be reached (each layer
decides what that means: the rate limits fail open, a replay check fails closed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis
from flask import g
from redis.client import Pipeline

log = logging.getLogger(__name__)
# Queues commands on the pipeline and says how many.
Queue = Callable[[Pipeline], int]
# Takes the answers to those commands (``None``: the store did not answer).
Settle = Callable[[Sequence[Any] | None], None]
# While the store is unreachable, say so at most this often (seconds), not on every request.
WARN_EVERY = 60.0
_warned_at = -WARN_EVERY


class RoundTrip:
    """The commands the layers of one request send to the shared store."""

    def __init__(self) -> None:
        self._parts: list[tuple[Queue, Settle]] = []

    def add(self, queue: Queue, settle: Settle) -> None:
        """Send what ``queue`` puts on the pipeline with the others; give ``settle`` the
        answers."""
        self._parts.append((queue, settle))

    def run(self, store: redis.Redis) -> bool:
        """Send every command in one pipeline and settle each part; tell whether the store
        answered. Nothing is sent when no layer asked."""
        parts, self._parts = self._parts, []
        if not parts:
            return True
        pipe = store.pipeline(transaction=False)
        counts = [queue(pipe) for queue, _settle in parts]
        try:
            answers: list[Any] | None = pipe.execute()
        except redis.RedisError as exc:
            _warn(exc)
            answers = None
        start = 0
        for (_queue, settle), count in zip(parts, counts, strict=True):
            settle(None if answers is None else answers[start : start + count])
            start += count
        return answers is not None


def current() -> RoundTrip:
    """The round trip of this request (made on first use)."""
    trip: RoundTrip | None = g.get("round_trip")
    if trip is None:
        trip = g.round_trip = RoundTrip()
    return trip


def _warn(exc: redis.RedisError) -> None:
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= WARN_EVERY:
        _warned_at = now
        log.warning("the shared store is unreachable: %s", exc)
