"""The unit of work of a request: one session, committed once at the end.

Services and the bank core receive the request's :class:`~sqlalchemy.orm.Session` and only
``flush()``; :func:`commit` commits once when the response is a success and rolls back
otherwise, so money and consents are never half-written.

The lone reads that authorise an API call (the token, its consent, the bank's clock) go through the
request's :class:`~gateway.store.reads.Reader` instead (see :func:`get_reader`).
"""

from __future__ import annotations

import contextlib

from flask import Flask, Response, current_app, g
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.edge.context import this_g
from gateway.store.database import Database
from gateway.store.reads import Reader


def commit(response: Response) -> None:
    """The one commit point of a request (the edge calls it last): commit when the response is a
    success, roll back otherwise."""
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    if not session.in_transaction():
        session.close()  # it only handed reads on (see get_reader): nothing to commit
        return
    try:
        # An error response rolls back, except where a view asked to keep a security-relevant
        # write (e.g. revoking tokens when a used authorization code is replayed).
        if response.status_code < 400 or g.pop("commit_on_error", False):
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def init_app(app: Flask, database: Database) -> None:
    """Bind ``database`` to ``app``; whatever a failed request left open is rolled back at its
    teardown (the commit itself is :func:`commit`, which the edge runs)."""
    app.extensions["database"] = database

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        context = this_g()
        reader: Reader | None = context.pop("db_reader", None)
        if reader is not None:
            reader.close()
        # Reached with a session still open only when the request failed before after_request.
        session: Session | None = context.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def discard() -> None:
    """Roll back this request's unit of work after a statement failed, so that what renders the
    error may still read (the commit point then finds nothing to commit)."""
    session: Session | None = g.get("db_session")
    if session is not None:
        # A connection that is gone took the transaction with it: nothing to roll back.
        with contextlib.suppress(SQLAlchemyError):
            session.rollback()


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
