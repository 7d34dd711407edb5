"""One round trip to the shared store per API call, for every layer that needs one.

The rate limits count the call, the authentication claims its DPoP proof's ``jti`` and asks
whether the token it keeps is still current: three questions for Redis, one round trip. A layer
adds its commands with :meth:`RoundTrip.add` and a function that takes their answers; the edge
sends everything at once (:meth:`RoundTrip.run`) after the layers have spoken and before the view
runs, then hands each its answers, or ``None`` when the store could not be reached (each layer
decides what that means: the rate limits fail open, a replay check fails closed).

Commands are Redis commands as tuples (``("INCR", key)``) and answers the server's replies as
they are (``SET ... NX`` answers ``b"OK"`` or ``None``). Every API call makes this round trip, so
it costs as little as a round trip can: it keeps connections of its own to the store (the
client's pool takes a lock and three system calls to check a connection it hands out; here one
poll tells whether the store closed an idle connection, and a connection is dropped on any
error, so none is left with unread replies), writes the commands in one packed write and parses
every reply from what one read brought with hiredis, without the client's pipeline or per-reply
machinery (together about twice the round trip itself in this process). The in-process
stand-in gets a plain pipeline.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import hiredis
import redis
from flask.ctx import _AppCtxGlobals

from gateway.edge.context import this_g
from gateway.store.kv import is_fake

log = logging.getLogger(__name__)
# A Redis command: its name and arguments.
Command = tuple[str | bytes | int, ...]
# Takes the answers to a layer's commands (``None``: the store did not answer).
Settle = Callable[[Sequence[Any] | None], None]
# While the store is unreachable, say so at most this often (seconds), not on every request.
WARN_EVERY = 60.0
_warned_at = -WARN_EVERY


class RoundTrip:
    """The commands the layers of one request send to the shared store."""

    def __init__(self) -> None:
        self._parts: list[tuple[Sequence[Command], Settle]] = []

    def add(self, commands: Sequence[Command], settle: Settle) -> None:
        """Send ``commands`` with the others; give ``settle`` their answers."""
        self._parts.append((commands, settle))

    def run(self, store: redis.Redis) -> bool:
        """Send every command at once and settle each part; tell whether the store answered.
        Nothing is sent when no layer asked."""
        parts, self._parts = self._parts, []
        if not parts:
            return True
        commands = [command for part, _settle in parts for command in part]
        try:
            answers: list[Any] | None = _send(store, commands)
        except redis.RedisError as exc:
            _warn(exc)
            answers = None
        start = 0
        for part, settle in parts:
            settle(None if answers is None else answers[start : start + len(part)])
            start += len(part)
        return answers is not None


def _send(store: redis.Redis, commands: list[Command]) -> list[Any]:
    """Write ``commands`` in one packed write on a connection of the round trip's own; read
    every reply."""
    if is_fake(store):
        pipe: Any = store.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        answered: list[Any] = pipe.execute(raise_on_error=True)
        return answered
    connections = _connections(store)
    connection = connections.take()
    try:
        # (hiredis's stub types a command as a one-element tuple; it takes any number.)
        packed = b"".join([hiredis.pack_command(command) for command in commands])  # type: ignore[arg-type]
        # Connects first when the connection is new or was dropped (redis-py's own handshake).
        connection.send_packed_command([packed], check_health=False)
        answers = _replies(connection._sock, len(commands))
    except BaseException:
        # Replies may be left unread on the socket: it must not serve another request (it
        # connects anew when next taken).
        connection.disconnect()
        raise
    finally:
        connections.give(connection)
    for answer in answers:
        if isinstance(answer, hiredis.ReplyError):
            # Every reply was read: the connection stays usable.
            raise redis.ResponseError(str(answer))
    return answers


def _replies(sock: socket.socket, count: int) -> list[Any]:
    """Read ``count`` replies from ``sock`` (an error reply is a ``hiredis.ReplyError``)."""
    reader = hiredis.Reader()
    answers: list[Any] = []
    while len(answers) < count:
        answer = reader.gets()
        if answer is not False:
            answers.append(answer)
            continue
        try:
            data = sock.recv(_READ_SIZE)
        except TimeoutError as exc:
            raise redis.TimeoutError("timed out reading from the store") from exc
        except OSError as exc:
            raise redis.ConnectionError(f"error reading from the store: {exc}") from exc
        if not data:
            raise redis.ConnectionError("the store closed the connection")
        reader.feed(data)
    return answers


_READ_SIZE = 65536


class _Connections:
    """The round trip's connections to one store, made with the store's settings when none is
    idle: a stack that requests take from and give back (``deque`` does both atomically, so no
    lock), of one process (a forked worker makes its own rather than share its parent's
    sockets). redis-py's connections are untyped: Any, as the client's own code treats them."""

    def __init__(self, store: redis.Redis) -> None:
        self.pid = os.getpid()
        self._pool = store.connection_pool
        self._idle: deque[Any] = deque()

    def take(self) -> Any:
        """An idle connection, or a new one (it connects on first use). An idle connection with
        something to read has been closed by the store (a restart, a timeout), or holds what no
        request asked for: it connects anew."""
        try:
            connection = self._idle.pop()
        except IndexError:
            return self._pool.connection_class(**self._pool.connection_kwargs)
        sock = connection._sock
        if sock is not None and _readable(sock):
            connection.disconnect()
        return connection

    def give(self, connection: Any) -> None:
        """Keep ``connection`` for the next request."""
        self._idle.append(connection)


def _readable(sock: socket.socket) -> bool:
    """Whether ``sock`` has data or an end of file to read now: one poll, no wait."""
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([sock], [], [], 0)[0])
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


_by_store: weakref.WeakKeyDictionary[redis.Redis, _Connections] = weakref.WeakKeyDictionary()
_made = threading.Lock()


def _connections(store: redis.Redis) -> _Connections:
    found = _by_store.get(store)
    if found is not None and found.pid == os.getpid():
        return found
    with _made:
        found = _by_store.get(store)
        if found is None or found.pid != os.getpid():
            found = _by_store[store] = _Connections(store)
        return found


def current(context: _AppCtxGlobals | None = None) -> RoundTrip:
    """The round trip of this request (made on first use); ``context``: its ``g``, when the
    caller holds it."""
    context = context if context is not None else this_g()
    trip: RoundTrip | None = context.get("round_trip")
    if trip is None:
        trip = context.round_trip = RoundTrip()
    return trip


def _warn(exc: redis.RedisError) -> None:
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= WARN_EVERY:
        _warned_at = now
        log.warning("the shared store is unreachable: %s", exc)
