"""Reads outside a transaction: the lone statements that authorise an API call.

A request that only reads (``GET /accounts``: the token, its consent, the bank's clock, the
accounts) pays for its statements and nothing else: no ``BEGIN``, no ``COMMIT``, no pool
pre-ping. A statement outside a transaction reads what is committed when it starts, which is what
it reads inside one too under READ COMMITTED (PostgreSQL's default, which the gateway keeps), so
nothing is lost. The connections refuse writes, so nothing can be half-written through them.
This module imports no Flask: the sandbox bank reads through the same :class:`Reads`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, Executable, Result, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gateway.store import pg_cursor
from gateway.store.statements import Prepared

_T = TypeVar("_T")


class Reads(Protocol):
    """Where a service sends a statement that only reads."""

    def execute(self, statement: Executable, parameters: Mapping[str, Any]) -> Result[Any]:
        """Run one read and return its (fully fetched) result."""

    def rows(self, read: Prepared, parameters: Mapping[str, Any]) -> Sequence[Any]:
        """Run one read of the hot path (:mod:`gateway.store.statements`); its rows (read by
        attribute or index, like a result's)."""


# The connection settings of every SQLite engine: wait for a writer rather than fail at once, and
# let the pool hand connections between threads.
SQLITE_CONNECT_ARGS = {"timeout": 30, "check_same_thread": False}


def make_read_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create the engine of :class:`Reader`: autocommit connections that refuse writes
    (PostgreSQL ``default_transaction_read_only``, SQLite ``query_only``).

    The pool does not pre-ping: :meth:`Reader.execute` retries a statement that meets a dropped
    connection once, which is safe because it only reads.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args=SQLITE_CONNECT_ARGS)

        @event.listens_for(engine, "connect")
        def _sqlite_read_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # no implicit BEGIN: each statement alone
            dbapi_connection.execute("PRAGMA query_only=ON")

        return engine
    engine = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args=pg_cursor.connect_args(url),
    )

    @event.listens_for(engine, "connect")
    def _postgres_read_only(dbapi_connection: Any, _record: Any) -> None:
        pg_cursor.set_session(dbapi_connection, "SET default_transaction_read_only = on")

    return engine


class SessionReads:
    """:class:`Reads` through a unit of work (outside a request: the CLI, the tests)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def execute(self, statement: Executable, parameters: Mapping[str, Any]) -> Result[Any]:
        """Run one read in the session's transaction."""
        return self._session.connection().execute(statement, parameters)

    def rows(self, read: Prepared, parameters: Mapping[str, Any]) -> Sequence[Any]:
        """Run one read of the hot path in the session's transaction (through SQLAlchemy, as
        the session's own statements)."""
        return self.execute(read.statement, parameters).all()


class Reader:
    """The lone reads of one request, each a statement outside any transaction.

    Once the request's unit of work has begun, reads go through it instead, so that they see what
    it wrote (the sandbox's due work, say).
    """

    def __init__(self, engine: Engine, session: Session) -> None:
        self._engine = engine
        self._session = session
        self._unit_of_work = SessionReads(session)
        self._connection: Connection | None = None

    def execute(self, statement: Executable, parameters: Mapping[str, Any]) -> Result[Any]:
        """Run one read and return its (fully fetched) result."""
        if self._session.in_transaction():
            return self._unit_of_work.execute(statement, parameters)
        return self._read(lambda connection: connection.execute(statement, parameters))

    def rows(self, read: Prepared, parameters: Mapping[str, Any]) -> Sequence[Any]:
        """Run one read of the hot path on the driver's cursor (see :class:`Prepared`)."""
        if self._session.in_transaction():
            return self._unit_of_work.rows(read, parameters)
        return self._read(lambda connection: read.run(connection, parameters))

    def _read(self, run: Callable[[Connection], _T]) -> _T:
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = self._engine.connect()
            try:
                return run(self._connection)
            except DBAPIError as exc:
                self.close()
                # A pooled connection the server dropped (a restart, an idle timeout): read again
                # on a new one; any other error is the caller's.
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Give the connection back to the pool."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
