"""Replay caches of one-time credentials, and the start marker that makes them survive a restart
of the store.

A credential used once (a DPoP proof, RFC 9449 §11.1; a client assertion, RFC 7523 §3 (7); a
registration request) has its ``jti`` claimed in the shared store with ``SET ... NX`` for as long
as the credential could be accepted: a second claim of it is a replay. The store is memory, and
memory is lost: when Redis restarts empty, is flushed, or fails over to a replica that missed the
latest writes, it forgets its claims, and a credential used just before would pass again while
its ``iat`` is still acceptable (minutes).

So the store keeps a start marker beside the claims, ``replay:start``: the instant (in
milliseconds) from which it holds every claim. Whoever finds it missing sets it to the present
(``SET NX``: the first writer wins, every reader sees the same value), and a credential issued
before it is refused (:attr:`Outcome.EARLIER`): it may have been claimed in the store that was
lost. A credential's issue time is its ``iat`` (the client's clock, whole seconds: a credential
issued in the second the marker was set is refused too, the price of not knowing its fraction),
or for a DPoP proof with a server nonce the instant the nonce was issued (our clock, exact; see
:mod:`gateway.oauth.nonces`). Clients whose clocks run ahead date their credentials ahead, and
those they used in the last moments before a restart (as far ahead as the clock runs, at most
:data:`CLIENT_CLOCK_AHEAD`) would still look new afterwards. A DPoP proof without a nonce is
therefore taken as issued that much before its ``iat``: for a minute after a restart such
proofs are asked for a nonce, which clients follow (RFC 9449 §9). A client assertion has no
nonce: one dated ahead and used in the last moments before a restart passes once more within
that skew (closing it would refuse every assertion for a minute after each restart).

The marker is read with the claims, in the same round trip (on the API path, the request's one
round trip, :mod:`gateway.edge.roundtrip`); only a store found without one costs a second trip,
once. It must never expire or be evicted (the store's ``maxmemory-policy`` is ``noeviction``),
and a store restored from an older snapshot brings back an old marker without the claims made
since: run the replay store without persistence, or with every write synced.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis

from gateway.edge.roundtrip import Command
from gateway.store.kv import is_fake, replay_entry

log = logging.getLogger(__name__)
MARKER = "replay:start"
# How far ahead of ours a client's clock may date a credential that is accepted (RFC 9449 §11.1's
# acceptable window for a DPoP proof's iat; the client assertion's iat).
CLIENT_CLOCK_AHEAD = 60
READ_MARKER: Command = ("GET", MARKER)


class Outcome(enum.Enum):
    """What claiming a credential's ``jti`` found."""

    NEW = "new"
    SEEN = "used before"
    EARLIER = "issued before the replay store started"


# Claims a credential: (jti key, seconds to remember, when it was issued) -> outcome.
ReplayGuard = Callable[[str, int, float], Outcome]


def claim_command(key: str, ttl: int) -> Command:
    """The claim of ``key`` for ``ttl`` seconds as a command: answered ``None`` when it was
    claimed before."""
    name, value, expiry = replay_entry(key, ttl)
    return ("SET", name, value, "NX", "EX", expiry)


def commands(keys: Sequence[tuple[str, int]]) -> list[Command]:
    """The commands that claim ``keys`` ((key, ttl) pairs) and read the marker, for
    :func:`decide`."""
    return [READ_MARKER, *(claim_command(key, ttl) for key, ttl in keys)]


def decide(store: redis.Redis, issued: Sequence[float], answers: Sequence[Any]) -> Outcome:
    """The outcome of :func:`commands`' ``answers`` for credentials issued at ``issued``. A store
    found without a marker is given one (a second round trip, only then); a store that cannot
    be reached then raises :class:`redis.RedisError`."""
    if not all(answers[1:]):
        return Outcome.SEEN
    marker = answers[0]
    start = int(marker) if marker is not None else mark(store)
    if min(issued) * 1000 < start:
        return Outcome.EARLIER
    return Outcome.NEW


def claim(store: redis.Redis, key: str, ttl: int, issued_at: float) -> Outcome:
    """Claim one credential's ``key`` for ``ttl`` seconds, in one round trip."""
    pipe: Any = store.pipeline(transaction=False)
    for command in commands([(key, ttl)]):
        pipe.execute_command(*command)
    return decide(store, [issued_at], pipe.execute())


def guard(store: redis.Redis) -> ReplayGuard:
    """A :data:`ReplayGuard` claiming in ``store``."""
    return lambda key, ttl, issued_at: claim(store, key, ttl, issued_at)


def mark(store: redis.Redis, at: float | None = None, *, quiet: bool = False) -> int:
    """Set the marker of a store that has none to ``at`` (default: now; the store was found
    without one, so it lost what it held before) and return the marker the store holds; say so
    unless ``quiet``. To the millisecond: a nonce issued in the same one is after it."""
    now = math.floor((time.time() if at is None else at) * 1000)
    pipe: Any = store.pipeline(transaction=False)
    pipe.set(MARKER, now, nx=True)
    pipe.get(MARKER)
    created, held = pipe.execute()
    if created and not quiet:
        log.warning(
            "the replay store had no start marker (it is new, restarted or flushed): one-time "
            "credentials issued before %s are refused",
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1000)),
        )
    return int(held)


def init_store(store: redis.Redis) -> None:
    """Give a store its marker when the application starts, before it serves a request.

    The in-process store is born with its process, which has claimed nothing before it, and
    only one such process serves at a time: its marker is the start of the current second less
    :data:`CLIENT_CLOCK_AHEAD`, so that what a client signs in the second the server starts is
    not refused, nor asked for a nonce. A shared store
    that cannot be reached now is marked at its first claim instead.
    """
    try:
        if is_fake(store):
            mark(store, at=math.floor(time.time()) - CLIENT_CLOCK_AHEAD, quiet=True)
        else:
            mark(store)
    except redis.RedisError as exc:
        log.warning("the replay store cannot be reached to read its start marker: %s", exc)
