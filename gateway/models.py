"""Declarative base of the gateway's and the partners' tables (``gw_`` and ``ptn_``).

A leaf module (no Flask), so that ``partners`` can share the metadata without importing the app.
"""

from __future__ import annotations

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Base of the ``gw_`` and ``ptn_`` tables."""

    metadata = MetaData(naming_convention=NAMING)
