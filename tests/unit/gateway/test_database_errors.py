"""Which database errors are an outage (a 503 to retry) and which are text PostgreSQL cannot
store (the caller's 400), as :mod:`gateway.store.database` tells them from the rest (a 500)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import errors
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.store.database import refused_text, unavailable


def wrapped(cause: Exception, kind: type[OperationalError] = OperationalError) -> Exception:
    return kind("SELECT 1", {}, cause)


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.OperationalError("connection failed: Connection refused"),  # no SQLSTATE
        errors.AdminShutdown("terminating connection due to administrator command"),  # 57P01
        errors.CrashShutdown("crash shutdown"),  # 57P02
        errors.CannotConnectNow("the database system is starting up"),  # 57P03
        errors.TooManyConnections("too many clients already"),  # 53300
        errors.ConnectionFailure("connection failure"),  # 08006
        sqlite3.OperationalError("unable to open database file"),
        sqlite3.OperationalError("database is locked"),
    ],
    ids=lambda cause: type(cause).__name__ + ":" + str(cause)[:20],
)
def test_an_outage(cause: Exception) -> None:
    assert unavailable(wrapped(cause))


@pytest.mark.parametrize(
    "cause",
    [
        errors.QueryCanceled("canceling statement due to statement timeout"),  # 57014
        errors.SerializationFailure("could not serialize access"),  # 40001
        errors.DeadlockDetected("deadlock detected"),  # 40P01
        sqlite3.OperationalError("no such table: sbx_posting"),
    ],
    ids=lambda cause: type(cause).__name__,
)
def test_an_answer_about_one_statement_is_no_outage(cause: Exception) -> None:
    assert not unavailable(wrapped(cause))


def test_a_dropped_connection_and_an_exhausted_pool_are_outages() -> None:
    dropped = OperationalError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert unavailable(dropped)
    assert unavailable(PoolTimeout("QueuePool limit of size 10 overflow 10 reached"))
    assert not unavailable(IntegrityError("INSERT", {}, errors.UniqueViolation("duplicate")))
    assert not unavailable(ValueError("not a database error"))


def test_text_postgresql_cannot_store() -> None:
    nul = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    assert refused_text(DataError("SELECT", {}, nul))
    escape = errors.UntranslatableCharacter("unsupported Unicode escape sequence")  # 22P05
    assert refused_text(DataError("SELECT", {}, escape))
    assert not refused_text(DataError("SELECT", {}, errors.NumericValueOutOfRange("out of range")))
    assert not refused_text(wrapped(nul))  # not a DataError
