"""Replay claims and the replay store's start marker (:mod:`gateway.oauth.replay`): a credential
is claimed once, and one made before the store (re)started is refused, because the store that
was lost may have held its claim."""

from __future__ import annotations

import logging
import math
import time

import fakeredis
import pytest
import redis

from gateway.oauth import replay
from gateway.oauth.replay import MARKER, Outcome


def _marker(store: redis.Redis) -> int:
    value = store.get(MARKER)
    assert value is not None
    return int(value)


def test_a_jti_is_claimed_once() -> None:
    store = fakeredis.FakeRedis()
    replay.mark(store, at=time.time() - 60)
    now = time.time()
    assert replay.claim(store, "dpop:k:j1", 360, now) is Outcome.NEW
    assert replay.claim(store, "dpop:k:j1", 360, now) is Outcome.SEEN
    assert replay.claim(store, "dpop:k:j2", 360, now) is Outcome.NEW
    assert 0 < store.ttl("replay:dpop:k:j1") <= 360


def test_a_store_without_a_marker_is_marked_at_its_first_claim(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A store that lost everything (restarted, flushed) holds no claim made before the moment
    it is found empty: what was made before then is refused, even if the jti is new to it."""
    store = fakeredis.FakeRedis()
    before = time.time()
    with caplog.at_level(logging.WARNING, logger="gateway.oauth.replay"):
        assert replay.claim(store, "assertion:c:1", 60, before - 1) is Outcome.EARLIER
    assert "no start marker" in caplog.text
    start = _marker(store)
    assert math.floor(before * 1000) <= start <= time.time() * 1000
    # Made in the second the marker was set, before it: its fraction is unknown, so refused.
    assert replay.claim(store, "assertion:c:2", 60, math.floor(start / 1000)) is Outcome.EARLIER
    assert replay.claim(store, "assertion:c:3", 60, (start + 1) / 1000) is Outcome.NEW
    assert replay.claim(store, "assertion:c:4", 60, math.ceil(start / 1000)) is Outcome.NEW
    # The marker stays as it was set.
    assert _marker(store) == start


def test_the_first_writer_sets_the_marker_and_everyone_reads_it() -> None:
    store = fakeredis.FakeRedis()
    first = replay.mark(store, at=1_800_000_000.5)
    assert first == 1_800_000_000_500
    assert replay.mark(store, at=1_900_000_000) == first


def test_answers_of_the_round_trip_decide_without_asking_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the API path the claims and the marker ride in the request's round trip: deciding
    costs no other trip while the store holds its marker."""
    store = fakeredis.FakeRedis()
    monkeypatch.setattr(replay, "mark", lambda *a, **k: pytest.fail("a second round trip"))
    start = b"1800000000000"
    commands = replay.commands([("dpop:k:j", 360)])
    assert commands == [("GET", MARKER), ("SET", "replay:dpop:k:j", b"1", "NX", "EX", 360)]
    assert replay.decide(store, [1_800_000_001], [start, b"OK"]) is Outcome.NEW
    assert replay.decide(store, [1_800_000_001], [start, None]) is Outcome.SEEN
    assert replay.decide(store, [1_799_999_999], [start, b"OK"]) is Outcome.EARLIER


def test_a_replay_is_refused_as_such_whatever_the_marker() -> None:
    store = fakeredis.FakeRedis()
    replay.mark(store, at=time.time() - 60)
    assert replay.claim(store, "k", 60, time.time()) is Outcome.NEW
    store.set(MARKER, int(time.time() * 1000) + 10_000)
    assert replay.claim(store, "k", 60, time.time()) is Outcome.SEEN


def test_the_in_process_store_is_marked_a_clock_skew_before_its_second() -> None:
    """It is born with its process, which has claimed nothing before: what a client signs in
    the second the server starts is accepted, a DPoP proof without a nonce too (it counts as
    made as early as the skew allows)."""
    store = fakeredis.FakeRedis()
    before = math.floor(time.time()) - replay.CLIENT_CLOCK_AHEAD
    replay.init_store(store)
    assert _marker(store) in (before * 1000, (before + 1) * 1000)


def test_a_shared_store_is_marked_at_start_to_the_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = fakeredis.FakeRedis()
    monkeypatch.setattr(replay, "is_fake", lambda client: False)
    before = time.time()
    replay.init_store(store)
    assert math.floor(before * 1000) <= _marker(store) <= time.time() * 1000


def test_an_unreachable_store_at_start_is_marked_later(caplog: pytest.LogCaptureFixture) -> None:
    store = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    with caplog.at_level(logging.WARNING, logger="gateway.oauth.replay"):
        replay.init_store(store)
    assert "cannot be reached" in caplog.text
    with pytest.raises(redis.RedisError):
        replay.claim(store, "k", 60, time.time())
