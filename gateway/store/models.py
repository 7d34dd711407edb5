"""Declarative base of the gateway's and the partners' tables (``gw_`` and ``ptn_``).

A leaf module (no Flask), so that ``partners`` can share the metadata without importing the app.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp with time zone that always reads back aware and in UTC. PostgreSQL answers in
    the session's time zone; SQLite keeps no zone at all and answers naive (the gateway writes
    UTC only)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """Attach UTC to a naive value; convert an aware one to UTC."""
        if value is None or value.tzinfo is dt.UTC:
            return value
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


Timestamp = UtcDateTime()


class Base(DeclarativeBase):
    """Base of the ``gw_`` and ``ptn_`` tables."""

    metadata = MetaData(naming_convention=NAMING)
