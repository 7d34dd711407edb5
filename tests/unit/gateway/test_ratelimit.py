"""The per-app limiter (:mod:`gateway.edge.ratelimit`): clock-aligned windows counted in the
shared store, the limit closest to exhaustion reported, and failing open."""

from __future__ import annotations

import logging
from typing import Any

import fakeredis
import pytest
import redis
from flask import Flask, g

from gateway.app import create_app
from gateway.config import ConfigError
from gateway.edge.ratelimit import DEFAULT_TIERS, Limiter, Window, parse_tiers
from gateway.edge.roundtrip import RoundTrip

MINUTE_START = 1_800_000_000.0  # a whole hour (epoch seconds): minute and hour windows start here


def limiter(tiers: dict[str, str]) -> tuple[Limiter, Any]:
    store = fakeredis.FakeRedis()
    return Limiter(parse_tiers(tiers), store), store


def count(limits: Limiter, store: Any, key: str, tier: str, now: float) -> list[Window] | None:
    """Count one call in a round trip of its own; the windows after it (``None``: no answer)."""
    with Flask("t").app_context():
        trip = RoundTrip()
        limits.count(trip, key, tier, now)
        trip.run(store)
        found: list[Window] | None = g.get("rate_windows")
        return found


def windows(limits: Limiter, store: Any, key: str, tier: str, now: float) -> list[Window]:
    """The windows of one counted call (the store answers)."""
    counted = count(limits, store, key, tier, now)
    assert counted is not None
    return counted


def test_counts_each_limit_of_the_tier_in_its_own_window() -> None:
    limits, store = limiter({"sandbox": "3/minute;5/hour"})
    counts = [windows(limits, store, "app:a", "sandbox", MINUTE_START + i) for i in range(4)]
    assert [[w.remaining for w in c] for c in counts] == [[2, 4], [1, 3], [0, 2], [-1, 1]]
    assert counts[3][0].exceeded and not counts[3][1].exceeded


def test_a_minute_window_resets_on_the_minute_and_the_hour_window_does_not() -> None:
    limits, store = limiter({"sandbox": "3/minute;5/hour"})
    for i in range(3):
        count(limits, store, "app:a", "sandbox", MINUTE_START + 50 + i)
    minute, hour = windows(limits, store, "app:a", "sandbox", MINUTE_START + 60)
    assert (minute.remaining, minute.reset_at) == (2, MINUTE_START + 120)
    assert hour.remaining == 1
    assert hour.reset_at % 3600 == 0 and MINUTE_START < hour.reset_at <= MINUTE_START + 3600


def test_apps_and_tiers_are_counted_apart() -> None:
    limits, store = limiter({"sandbox": "1/minute", "wide": "2/minute"})
    assert windows(limits, store, "app:a", "sandbox", MINUTE_START)[0].remaining == 0
    assert windows(limits, store, "app:b", "sandbox", MINUTE_START)[0].remaining == 0
    assert windows(limits, store, "app:c", "wide", MINUTE_START)[0].remaining == 1
    # An unknown tier (one removed from the configuration) falls back to the sandbox tier.
    assert windows(limits, store, "app:d", "gone", MINUTE_START)[0].limit == 1


def test_counters_expire_after_their_window() -> None:
    limits, store = limiter({"sandbox": "10/second;100/minute"})
    count(limits, store, "app:a", "sandbox", MINUTE_START)
    ttls = sorted(store.ttl(k) for k in store.keys("ratelimit:*"))
    assert ttls == [2, 61]
    # Only the call that made a counter sets its expiry: a second keeps it.
    store.expire(store.keys("ratelimit:*")[0], 30)
    count(limits, store, "app:a", "sandbox", MINUTE_START + 0.5)
    assert sorted(store.ttl(k) for k in store.keys("ratelimit:*")) in ([2, 30], [30, 61])


def test_an_unreachable_store_counts_nothing_and_the_call_is_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = redis.Redis(port=1, socket_connect_timeout=0.2)
    limits = Limiter(parse_tiers({}), dead)
    with caplog.at_level(logging.WARNING, logger="gateway.edge.roundtrip"):
        assert count(limits, dead, "app:a", "sandbox", MINUTE_START) is None
        assert count(limits, dead, "app:a", "sandbox", MINUTE_START + 1) is None
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) <= 1


def test_configured_tiers_extend_the_defaults() -> None:
    tiers = parse_tiers({"gold": "500/second"})
    assert set(tiers) == set(DEFAULT_TIERS) | {"gold"}
    assert [item.amount for item in tiers["sandbox"]] == [20, 1000, 50000]


@pytest.mark.parametrize("text", ["", "lots", "20/fortnight", "20 per"])
def test_a_limit_that_does_not_parse_stops_the_app(database_url: str, text: str) -> None:
    with pytest.raises(ConfigError, match="GATEWAY_RATE_LIMIT_TIERS: tier 'gold'"):
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "SECRET_KEY": "t",
                "RATE_LIMIT_TIERS": {"gold": text},
            }
        )
