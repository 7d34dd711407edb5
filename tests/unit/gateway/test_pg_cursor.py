"""psycopg connections of the gateway: cursors that describe their result lazily (the same
description as psycopg's, built only when read) and sessions in UTC, wired into the gateway's
PostgreSQL engines (not into SQLite's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import Engine, select, text

from gateway.store.database import make_engine
from gateway.store.pg_cursor import LazyDescriptionCursor, connect_args
from gateway.store.reads import make_read_engine
from sandbox.models import Tenant

PROBE = "SELECT 1::int AS one, 'x'::text AS letter, now() AS at, NULL::numeric(12, 2) AS amount"


@pytest.fixture
def connection(postgres_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A psycopg connection of the gateway's engine (so with the lazy cursor)."""
    engine = make_engine(postgres_url)
    raw = engine.raw_connection()
    try:
        assert isinstance(raw.dbapi_connection, psycopg.Connection)
        yield raw.dbapi_connection
    finally:
        raw.close()
        engine.dispose()


def test_the_description_is_psycopgs_own(
    connection: psycopg.Connection[tuple[object, ...]],
) -> None:
    with connection.cursor() as lazy, psycopg.Cursor(connection) as eager:
        lazy.execute(PROBE)
        eager.execute(PROBE)
        described = lazy.description
        assert described is not None and eager.description is not None
        assert len(described) == 4
        assert [tuple(c) for c in described] == [tuple(c) for c in eager.description]
        assert described[1].name == "letter" and described[-1].name == "amount"
        assert [c.name for c in described[1:3]] == ["letter", "at"]
        assert lazy.fetchone() == eager.fetchone()


def test_a_statement_without_rows_has_no_description(
    connection: psycopg.Connection[tuple[object, ...]],
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET application_name = 'pg-cursor-test'")
        assert cursor.description is None
        cursor.execute("SELECT")  # rows of no columns: psycopg describes them as an empty list
        assert cursor.description == []


def test_a_description_of_an_earlier_statement_is_refused(
    connection: psycopg.Connection[tuple[object, ...]],
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 AS first")
        earlier = cursor.description
        cursor.execute("SELECT 2 AS second, 3 AS third")
        assert earlier is not None and len(earlier) == 1
        # Its columns would be read from the later result: refuse rather than misdescribe.
        with pytest.raises(psycopg.InterfaceError, match="another statement"):
            list(earlier)


@pytest.mark.parametrize("make", [make_engine, make_read_engine])
def test_postgres_engines_use_the_lazy_cursor(
    postgres_url: str, make: Callable[[str], Engine]
) -> None:
    engine = make(postgres_url)
    try:
        with engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            assert isinstance(dbapi, psycopg.Connection)
            assert dbapi.cursor_factory is LazyDescriptionCursor
            # SQLAlchemy reads the columns the first time and only checks for them after.
            for _ in range(3):
                rows = conn.execute(text(PROBE)).mappings().all()
                assert rows[0]["one"] == 1 and rows[0]["letter"] == "x"
                assert conn.execute(select(Tenant.id).where(Tenant.id == "none")).all() == []
    finally:
        engine.dispose()


def test_other_drivers_keep_their_cursors() -> None:
    assert connect_args("sqlite:///gateway.sqlite3") == {}
    assert connect_args("postgresql+psycopg2://db/x") == {}
    assert connect_args("postgresql+psycopg://db/x") == {"cursor_factory": LazyDescriptionCursor}


@pytest.mark.parametrize("make", [make_engine, make_read_engine])
def test_postgres_sessions_run_in_utc(postgres_url: str, make: Callable[[str], Engine]) -> None:
    engine = make(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW TimeZone")).scalar() == "UTC"
            # psycopg gives the datetime.UTC zone itself: UtcDateTime passes values through.
            stamp = conn.execute(text("SELECT TIMESTAMPTZ '2026-03-29 01:30:00+01'")).scalar()
            assert stamp == dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)
            assert stamp.tzinfo is dt.UTC
            # The URL's own options (the test schema's search_path) still apply.
            assert conn.execute(select(Tenant.id).where(Tenant.id == "none")).all() == []
            # Set outside any transaction: the engine's own mode is what it was.
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            assert dbapi.autocommit is (make is make_read_engine)
    finally:
        engine.dispose()


def test_the_operators_pgoptions_still_apply(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libpq reads PGOPTIONS when it connects; a startup option of our own would replace it.
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=4321")
    engine = make_engine(postgres_url.split("?")[0])
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "4321ms"
            assert conn.execute(text("SHOW TimeZone")).scalar() == "UTC"
    finally:
        engine.dispose()
