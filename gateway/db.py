"""Database engines and the unit of work of a request.

Services and the bank core receive a :class:`~sqlalchemy.orm.Session` and only ``flush()``; the
request boundary (see :func:`init_app`) commits once when the response is a success and rolls back
otherwise, so money and consents are never half-written.

The lone reads that authorise an API call (the token, its consent, the bank's clock) go through the
request's :class:`~gateway.reads.Reader` instead (see :func:`get_reader`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gateway import pg_cursor
from gateway.config import ConfigError, env_name, redact
from gateway.reads import SQLITE_CONNECT_ARGS, Reader


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
    """Open one connection, raising :class:`ConfigError` naming the variable if it fails."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ConfigError(
            f"{env_name('DATABASE_URL')}: cannot connect to "
            f"{redact(engine.url.render_as_string(hide_password=False))}: {reason}"
        ) from None


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


def init_app(app: Flask, database: Database) -> None:
    """Bind ``database`` to ``app`` and install the one commit point of every request."""
    app.extensions["database"] = database

    @app.after_request
    def _commit(response: Response) -> Response:
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return response
        if not session.in_transaction():
            session.close()  # it only handed reads on (see get_reader): nothing to commit
            return response
        try:
            # An error response rolls back, except where a view asked to keep a security-relevant
            # write (e.g. revoking tokens when a used authorization code is replayed).
            if response.status_code < 400 or g.pop("commit_on_error", False):
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        reader: Reader | None = g.pop("db_reader", None)
        if reader is not None:
            reader.close()
        # Reached with a session still open only when the request failed before after_request.
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def get_session() -> Session:
    """Return the session of the current request, opening it on first use."""
    if "db_session" not in g:
        database: Database = current_app.extensions["database"]
        g.db_session = database.sessions()
    session: Session = g.db_session
    return session


def unit_of_work_open() -> bool:
    """Whether this request's unit of work has begun a transaction (a read may then see writes
    that are not committed yet)."""
    session: Session | None = g.get("db_session")
    return session is not None and session.in_transaction()


def get_reader() -> Reader:
    """Return the reader of the current request (see :class:`Reader`)."""
    if "db_reader" not in g:
        database: Database = current_app.extensions["database"]
        g.db_reader = Reader(database.read_engine, get_session())
    reader: Reader = g.db_reader
    return reader
