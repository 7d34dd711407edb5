"""Timestamps read back aware and in UTC on both databases (SQLite keeps no zone)."""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Flask
from sqlalchemy import select

from gateway.oauth.models import ServerKey
from gateway.store.database import Database
from gateway.store.models import UtcDateTime
from sandbox.models import Tenant


def test_naive_and_foreign_zone_values_read_back_in_utc() -> None:
    naive = dt.datetime(2026, 1, 2, 3, 4, 5)
    paris = dt.datetime(2026, 1, 2, 4, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    column_type = UtcDateTime()
    for value in (naive, paris):
        read = column_type.process_result_value(value, None)  # type: ignore[arg-type]
        assert read == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        assert read is not None and read.utcoffset() == dt.timedelta(0)
    assert column_type.process_result_value(None, None) is None  # type: ignore[arg-type]


def test_the_sandbox_keeps_its_timestamps_in_the_same_type() -> None:
    assert isinstance(Tenant.__table__.c.anchor.type, UtcDateTime)


def test_a_stored_timestamp_comes_back_aware(app: Flask) -> None:
    database: Database = app.extensions["database"]
    kid = f"tz-{uuid.uuid4().hex[:12]}"
    written = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    with database.sessions.begin() as session:
        session.add(
            ServerKey(kid=kid, alg="ES256", private_jwk={}, status="retired",
                      created_at=written)
        )  # fmt: skip
    with database.sessions() as session:
        read = session.scalar(select(ServerKey.created_at).where(ServerKey.kid == kid))
    assert read == written and read is not None and read.tzinfo is not None
