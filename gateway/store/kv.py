"""The key-value store for counters, replay caches and queues: Redis, or an in-process stand-in.

With ``GATEWAY_REDIS_URL`` set, the gateway shares one Redis among all its workers and hosts.
Without it, an in-process fake (fakeredis, same commands and semantics) serves one process, which
is enough for one developer on the embedded default. Nothing that concerns money or consents is
kept here; losing this store loses only rate-limit windows and replay caches.
"""

from __future__ import annotations

from typing import Any

import redis


def make_redis(url: str) -> redis.Redis:
    """Return a client for ``url``, or an in-process fake when ``url`` is empty."""
    if url:
        client: redis.Redis = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
        )
        return client
    import fakeredis

    fake: Any = fakeredis.FakeRedis()
    return fake  # type: ignore[no-any-return]


def is_fake(client: redis.Redis) -> bool:
    """Tell whether ``client`` is the in-process fallback."""
    return type(client).__module__.startswith("fakeredis")


def replay_entry(key: str, ttl: int) -> tuple[str, bytes, int]:
    """The key, value and expiry with which a replay claim remembers ``key`` (``SET ... NX EX``:
    see :mod:`gateway.oauth.replay`)."""
    return f"replay:{key}", b"1", max(1, ttl)
