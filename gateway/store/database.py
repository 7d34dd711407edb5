"""Database engines with the settings the gateway relies on, and the engines of one application.

Services and the bank core receive a :class:`~sqlalchemy.orm.Session` and only ``flush()``; the
request boundary (:mod:`gateway.edge.transaction`) or a command (``gateway`` CLI) commits.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DataError, DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import sessionmaker

from gateway.store import pg_cursor
from gateway.store.reads import SQLITE_CONNECT_ARGS


class StoreUnreachable(Exception):
    """The database cannot be reached; the message is the driver's first line."""


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine for ``url`` with the settings the gateway relies on.

    SQLite: WAL journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` so that a
    transaction that will write takes the write lock up front (a deferred transaction that upgrades
    to a writer can fail at once with SQLITE_BUSY under concurrency). PostgreSQL: a pre-pinged pool,
    sessions in UTC and cursors that describe their results lazily (:mod:`gateway.pg_cursor`).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args=SQLITE_CONNECT_ARGS)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, emit BEGIN (needed for SAVEPOINT to work).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args=pg_cursor.connect_args(url),
    )

    @event.listens_for(engine, "connect")
    def _postgres_connect(dbapi_connection: Any, _record: Any) -> None:
        pg_cursor.set_session(dbapi_connection)

    return engine


def check_connection(engine: Engine) -> None:
    """Open one connection; :class:`StoreUnreachable` with the driver's reason if it fails."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        raise StoreUnreachable(str(getattr(exc, "orig", exc)).strip().splitlines()[0]) from None


# SQLSTATE classes of a server that cannot serve now (PostgreSQL Appendix A): 08 connection
# exception; 57P01-57P03 admin or crash shutdown, cannot connect now (starting up, shutting down,
# in recovery); 53300 too many connections. Not 57014 (a cancelled statement) nor 40 (a
# serialization failure or deadlock): those are answers about one statement, not an outage.
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")
# What SQLite says when its file cannot be reached or stays locked past the busy timeout.
_SQLITE_UNAVAILABLE = ("unable to open database file", "database is locked", "disk I/O error")


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve now (unreachable, restarting, a connection
    it dropped, every pooled connection busy), rather than refused one statement: worth a 503 and
    a retry, not a 500."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    cause = exc.orig
    if isinstance(cause, psycopg.OperationalError):
        # A client-side failure (no SQLSTATE): the connection could not be made or was lost.
        return cause.sqlstate is None or cause.sqlstate.startswith(_UNAVAILABLE_STATES)
    if isinstance(cause, sqlite3.OperationalError):
        return str(cause).startswith(_SQLITE_UNAVAILABLE)
    return False


def refused_text(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL refusing a NUL in text: psycopg refuses it in a parameter
    (``DataError`` without a SQLSTATE), the server a ``\\u0000`` in ``jsonb`` (22P05) or a byte
    the encoding lacks (22021). SQLite stores such text; the edge refuses it before, this is
    what reaches the store anyway (say, inside a JWT the edge cannot read)."""
    if not isinstance(exc, DataError) or not isinstance(exc.orig, psycopg.DataError):
        return False
    state = exc.orig.sqlstate
    return state in ("22P05", "22021") or (state is None and "NUL" in str(exc.orig))


class Database:
    """The engines and session factory of one application."""

    def __init__(self, engine: Engine, read_engine: Engine) -> None:
        self.engine = engine
        self.read_engine = read_engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def dispose(self) -> None:
        """Close every pooled connection of both engines."""
        self.engine.dispose()
        self.read_engine.dispose()
