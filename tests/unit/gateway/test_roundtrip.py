"""The request's one round trip to the shared store (:mod:`gateway.edge.roundtrip`): the layers'
commands go in one pipeline, each layer gets its own answers, and an unreachable store gives
every layer ``None``."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any

import fakeredis
import pytest
import redis

from gateway.edge import roundtrip
from gateway.edge.roundtrip import RoundTrip
from tests.common import services


def test_every_layer_rides_in_one_pipeline_and_gets_its_own_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = fakeredis.FakeRedis()
    store.set("known", b"v")
    sent: list[int] = []
    pipeline = store.pipeline
    monkeypatch.setattr(store, "pipeline", lambda **kw: sent.append(1) or pipeline(**kw))
    got: dict[str, Sequence[Any] | None] = {}

    trip = RoundTrip()
    trip.add([("INCR", "c"), ("INCR", "c")], lambda answers: got.__setitem__("counts", answers))
    trip.add([("GET", "known")], lambda answers: got.__setitem__("read", answers))
    assert trip.run(store)
    assert sent == [1]
    assert got == {"counts": [1, 2], "read": [b"v"]}
    # A second run sends nothing: the parts were settled.
    assert trip.run(store) and sent == [1]


@pytest.mark.redis
def test_a_real_store_answers_in_one_packed_write_and_keeps_its_connection_usable() -> None:
    store = services.redis_client()
    key = f"roundtrip:{secrets.token_hex(4)}"
    got: list[Sequence[Any] | None] = []
    trip = RoundTrip()
    trip.add([("SET", key, "v", "NX", "EX", 60), ("SET", key, "w", "NX", "EX", 60)], got.append)
    trip.add(
        [("INCR", f"{key}:n"), ("EXPIRE", f"{key}:n", 60), ("MGET", key, "nosuch")], got.append
    )
    assert trip.run(store)
    assert got == [[b"OK", None], [1, 1, [b"v", None]]]
    # A reply that is an error drops the connection instead of leaving replies unread on it.
    trip.add([("INCR", key), ("GET", key)], got.append)
    assert not trip.run(store) and got[-1] is None
    assert store.get(key) == b"v"
    store.delete(key, f"{key}:n")


@pytest.mark.redis
def test_round_trips_keep_their_connection_and_make_a_new_one_when_it_is_closed() -> None:
    store = services.redis_client()

    def connection_id() -> Any:
        got: list[Sequence[Any] | None] = []
        trip = RoundTrip()
        trip.add([("CLIENT", "ID")], got.append)
        trip.run(store)
        return None if got[0] is None else got[0][0]

    first = connection_id()
    assert first is not None and connection_id() == first  # no new connection per request
    store.client_kill_filter(_id=first)  # the server drops it (as a restart would)
    again = connection_id()  # the next request finds it closed and connects anew
    assert again is not None and again != first
    assert connection_id() == again


def test_an_unreachable_store_settles_every_layer_with_none(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roundtrip, "_warned_at", -roundtrip.WARN_EVERY)
    dead = redis.Redis(port=1, socket_connect_timeout=0.2)
    got: list[Sequence[Any] | None] = []
    with caplog.at_level(logging.WARNING, logger="gateway.edge.roundtrip"):
        for _ in range(2):
            trip = RoundTrip()
            trip.add([("INCR", "c")], got.append)
            trip.add([("GET", "k")], got.append)
            assert not trip.run(dead)
    assert got == [None] * 4
    # Said once a minute, not on every request.
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
