"""The request's one round trip to the shared store (:mod:`gateway.edge.roundtrip`): the layers'
commands go in one pipeline, each layer gets its own answers, and an unreachable store gives
every layer ``None``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import fakeredis
import pytest
import redis
from redis.client import Pipeline

from gateway.edge import roundtrip
from gateway.edge.roundtrip import RoundTrip


class Counting(fakeredis.FakeRedis):  # type: ignore[misc]
    """A store that counts the pipelines it sends."""

    sent = 0

    def pipeline(self, *args: Any, **kwargs: Any) -> Pipeline:
        type(self).sent += 1
        return super().pipeline(*args, **kwargs)  # type: ignore[no-any-return]


def test_every_layer_rides_in_one_pipeline_and_gets_its_own_answers() -> None:
    store = Counting()
    store.set("known", b"v")
    got: dict[str, Sequence[Any] | None] = {}

    def queue_counts(pipe: Pipeline) -> int:
        pipe.incr("c")
        pipe.incr("c")
        return 2

    def queue_read(pipe: Pipeline) -> int:
        pipe.get("known")
        return 1

    trip = RoundTrip()
    trip.add(queue_counts, lambda answers: got.__setitem__("counts", answers))
    trip.add(queue_read, lambda answers: got.__setitem__("read", answers))
    Counting.sent = 0
    assert trip.run(store)
    assert Counting.sent == 1
    assert got == {"counts": [1, 2], "read": [b"v"]}
    # A second run sends nothing: the parts were settled.
    assert trip.run(store) and Counting.sent == 1


def test_an_unreachable_store_settles_every_layer_with_none(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roundtrip, "_warned_at", -roundtrip.WARN_EVERY)
    dead = redis.Redis(port=1, socket_connect_timeout=0.2)
    got: list[Sequence[Any] | None] = []
    with caplog.at_level(logging.WARNING, logger="gateway.edge.roundtrip"):
        for _ in range(2):
            trip = RoundTrip()
            trip.add(lambda pipe: pipe.incr("c") and 1, got.append)
            trip.add(lambda pipe: pipe.get("k") and 1, got.append)
            assert not trip.run(dead)
    assert got == [None] * 4
    # Said once a minute, not on every request.
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
