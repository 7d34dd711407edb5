"""Bulk writes of generated history: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

The ORM is the right tool for one payment; it is the wrong one for a million rows of history.
These helpers take rows as tuples in :data:`POSTING_COLUMNS` order and write them with the
driver's fastest path, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from sandbox.models import Journal

POSTING_COLUMNS = (
    "journal_pk",
    "account_pk",
    "currency",
    "amount",
    "booking_datetime",
    "value_datetime",
    "balance_after",
    "reference",
    "information",
    "btc_code",
    "btc_subcode",
    "proprietary_code",
    "merchant_name",
    "merchant_mcc",
    "counterparty_name",
    "counterparty_scheme",
    "counterparty_id",
)
JOURNAL_COLUMNS = ("pk", "tenant_id", "kind", "booked_at", "memo")


def timestamp_suffix(session: Session) -> str:
    """Return what to append to ``YYYY-MM-DD HH:MM:SS.ffffff`` text timestamps for this database.

    SQLite stores timestamps as naive UTC text (SQLAlchemy's format); PostgreSQL parses the text,
    so it gets an explicit UTC offset rather than trusting the server's ``TimeZone``.
    """
    return "" if session.get_bind().dialect.name == "sqlite" else "+00"


def reserve_journal_pks(session: Session, count: int) -> list[int]:
    """Reserve ``count`` journal primary keys for rows written in bulk."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text("SELECT nextval('sbx_journal_pk_seq') FROM generate_series(1, :n)"), {"n": count}
        )
        return [int(r[0]) for r in rows]
    # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so max + 1 is ours.
    start = int(session.scalar(select(func.coalesce(func.max(Journal.pk), 0))) or 0) + 1
    return list(range(start, start + count))


def write_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Write ``rows`` into ``table`` with the driver's bulk path; return how many were written."""
    session.flush()
    dbapi: Any = session.connection().connection.driver_connection
    names = ", ".join(columns)
    if session.get_bind().dialect.name == "postgresql":
        count = 0
        with dbapi.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    rows = rows if isinstance(rows, list) else list(rows)
    marks = ", ".join("?" * len(columns))
    cursor = dbapi.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
    finally:
        cursor.close()
    return len(rows)
