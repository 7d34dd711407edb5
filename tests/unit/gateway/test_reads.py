"""Reads outside a transaction: connections that refuse writes, that read through the unit of
work once it has begun, and that read again on a new connection when the server dropped theirs."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gateway.store.database import Database
from gateway.store.reads import Reader, make_read_engine
from sandbox.models import Tenant


def _tenant_row(tenant: str) -> Tenant:
    now = dt.datetime.now(dt.UTC)
    return Tenant(id=tenant, seed=1, anchor=now, created_at=now)


@pytest.fixture
def database(app: Flask) -> Database:
    """The app's engines."""
    found: Database = app.extensions["database"]
    return found


def test_read_connections_refuse_writes(database: Database) -> None:
    with Session(database.engine) as session:
        reader = Reader(database.read_engine, session)
        # PostgreSQL: "cannot execute CREATE TABLE in a read-only transaction"; SQLite:
        # "attempt to write a readonly database".
        with pytest.raises(DBAPIError, match=r"read-only|readonly"):
            reader.execute(text("CREATE TABLE reads_probe (x INTEGER)"), {})
        reader.close()
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1  # the main engine still writes


def test_reads_outside_a_transaction_see_only_what_is_committed(database: Database) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    query = select(Tenant.id).where(Tenant.id == tenant)
    with Session(database.engine) as writer, Session(database.engine) as request:
        writer.add(_tenant_row(tenant))
        writer.flush()
        reader = Reader(database.read_engine, request)
        assert reader.execute(query, {}).first() is None  # not committed yet
        writer.commit()
        assert reader.execute(query, {}).scalar() == tenant
        assert not request.in_transaction()  # the request's unit of work never began
        reader.close()
        writer.delete(writer.get(Tenant, tenant))
        writer.commit()


def test_once_the_unit_of_work_began_reads_go_through_it(database: Database) -> None:
    tenant = f"t-{uuid.uuid4().hex[:12]}"
    with Session(database.engine) as session:
        reader = Reader(database.read_engine, session)
        session.add(_tenant_row(tenant))
        session.flush()  # written in the request's transaction, not committed
        found = reader.execute(select(Tenant.id).where(Tenant.id == tenant), {}).scalar()
        assert found == tenant
        session.rollback()
        reader.close()


@pytest.fixture
def postgres_reads(postgres_url: str) -> Iterator[tuple[Engine, Engine]]:
    """A read engine of one connection on PostgreSQL, and an engine to act on the server."""
    reads = make_read_engine(postgres_url, pool_size=1)
    admin = make_read_engine(postgres_url, pool_size=1)
    yield reads, admin
    reads.dispose()
    admin.dispose()


def test_a_connection_the_server_dropped_is_read_again(
    postgres_reads: tuple[Engine, Engine],
) -> None:
    reads, admin = postgres_reads
    with Session(reads) as session:
        reader = Reader(reads, session)
        first = reader.execute(text("SELECT pg_backend_pid()"), {}).scalar()
        reader.close()  # back in the pool, as between two requests
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        again = reader.execute(text("SELECT pg_backend_pid()"), {}).scalar()
        assert again is not None and again != first
        # Only a dropped connection is read again: any other error is the caller's, at once.
        with pytest.raises(DBAPIError, match="division by zero"):
            reader.execute(text("SELECT 1 / 0"), {})
        reader.close()
