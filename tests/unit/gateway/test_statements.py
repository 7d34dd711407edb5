"""The hot path's reads on the driver's cursor (:mod:`gateway.store.statements`): the same rows as
SQLAlchemy's, the engine's listeners hear them, and the driver's errors are SQLAlchemy's, a dropped
connection invalidated so that the reader reads again."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, bindparam, event, func, literal, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gateway.store.database import Database
from gateway.store.reads import Reader, make_read_engine
from gateway.store.statements import Prepared
from sandbox.models import Tenant

# A join, a literal the statement binds itself, a parameter, and columns that SQLAlchemy
# processes on the way out (a timestamp on SQLite; the gateway's UTC type everywhere).
TENANTS = Prepared(
    select(Tenant.id, Tenant.anchor, Tenant.seed, literal("sandbox").label("kind"))
    .where(Tenant.id == bindparam("tenant_id"), Tenant.seed >= 0)
    .order_by(Tenant.id)
)


@pytest.fixture
def tenant(app: Flask) -> Iterator[str]:
    """A committed tenant row of this test's own."""
    database: Database = app.extensions["database"]
    name = f"t-{uuid.uuid4().hex[:12]}"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with Session(database.engine) as session:
        session.add(Tenant(id=name, seed=7, anchor=now, created_at=now))
        session.commit()
    yield name
    with Session(database.engine) as session:
        session.delete(session.get_one(Tenant, name))
        session.commit()


def test_rows_are_sqlalchemys_rows_as_named_tuples(app: Flask, tenant: str) -> None:
    database: Database = app.extensions["database"]
    with database.read_engine.connect() as conn:
        expected = conn.execute(TENANTS.statement, {"tenant_id": tenant}).all()
        rows = TENANTS.run(conn, {"tenant_id": tenant})
    assert rows == [tuple(row) for row in expected] and len(rows) == 1
    row = rows[0]
    assert (row.id, row.seed, row.kind) == (tenant, 7, "sandbox")
    assert row.anchor.tzinfo is dt.UTC  # processed as SQLAlchemy would (a string on SQLite)
    assert row[1:3] == (row.anchor, 7)
    with database.read_engine.connect() as conn:
        assert TENANTS.run(conn, {"tenant_id": "no-such-tenant"}) == []


def test_the_engines_listeners_hear_the_statement(app: Flask, tenant: str) -> None:
    database: Database = app.extensions["database"]
    heard: list[tuple[str, str]] = []

    def before(*args: Any) -> None:
        heard.append(("before", args[2]))

    def after(*args: Any) -> None:
        heard.append(("after", args[2]))

    event.listen(database.read_engine, "before_cursor_execute", before)
    event.listen(database.read_engine, "after_cursor_execute", after)
    try:
        with database.read_engine.connect() as conn:
            TENANTS.run(conn, {"tenant_id": tenant})
    finally:
        event.remove(database.read_engine, "before_cursor_execute", before)
        event.remove(database.read_engine, "after_cursor_execute", after)
    assert [kind for kind, _sql in heard] == ["before", "after"]
    assert "FROM sbx_tenant" in heard[0][1]


def test_a_parameter_left_out_is_refused_before_anything_is_sent(app: Flask) -> None:
    database: Database = app.extensions["database"]
    with database.read_engine.connect() as conn, pytest.raises(KeyError, match="tenant_id"):
        TENANTS.run(conn, {})


def test_the_drivers_errors_are_sqlalchemys(app: Flask) -> None:
    database: Database = app.extensions["database"]
    broken = Prepared(select(func.no_such_function(literal(1)).label("x")))
    # PostgreSQL: undefined function (a ProgrammingError); SQLite: an OperationalError.
    with database.read_engine.connect() as conn, pytest.raises(DBAPIError) as raised:
        broken.run(conn, {})
    assert not raised.value.connection_invalidated and raised.value.orig is not None
    assert "no_such_function" in str(raised.value)


def test_expanding_parameters_are_refused(app: Flask) -> None:
    database: Database = app.extensions["database"]
    many = Prepared(select(Tenant.id).where(Tenant.id.in_(bindparam("ids", expanding=True))))
    with database.read_engine.connect() as conn, pytest.raises(ValueError, match="plain"):
        many.run(conn, {"ids": ["a", "b"]})


@pytest.fixture
def postgres_reads(postgres_url: str) -> Iterator[tuple[Engine, Engine]]:
    """A read engine of one connection on PostgreSQL, and an engine to act on the server."""
    reads = make_read_engine(postgres_url, pool_size=1)
    admin = make_read_engine(postgres_url, pool_size=1)
    yield reads, admin
    reads.dispose()
    admin.dispose()


def test_a_connection_the_server_dropped_is_invalidated_and_read_again(
    postgres_reads: tuple[Engine, Engine],
) -> None:
    reads, admin = postgres_reads
    backend = Prepared(select(func.pg_backend_pid().label("pid")))
    with Session(reads) as session:
        reader = Reader(reads, session)
        first = reader.rows(backend, {})[0].pid
        reader.close()  # back in the pool, as between two requests
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        again = reader.rows(backend, {})[0].pid  # read again, on a new connection
        assert again != first
        reader.close()
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": again})
    with reads.connect() as conn:
        with pytest.raises(DBAPIError) as raised:
            backend.run(conn, {})
        assert raised.value.connection_invalidated and conn.invalidated
