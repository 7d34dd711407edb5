"""PostgreSQL connections for SQLAlchemy: sessions in UTC, psycopg cursors that describe their
result only when asked to.

SQLAlchemy reads ``cursor.description`` after every statement. For a statement it has run before,
it only checks that a description is there: the result's columns are cached with the compiled
statement. psycopg builds one ``Column`` per column on every read of ``description``, decoding
the name and looking up the type of each. For the token lookup of every API call (twenty
columns with the app and consent) that was about a fifth of the statement's client-side CPU.

:class:`LazyDescriptionCursor` returns a sequence that knows its length at once and builds the
columns on first use. Everything that does read the columns (SQLAlchemy the first time it runs a
statement, psycopg's row factories, the ``DBAPI`` cursor of a raw connection) gets the same
``Column`` objects as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import psycopg
from psycopg import Column
from psycopg.pq.abc import PGresult
from sqlalchemy import make_url

# Timestamps come back in the session's time zone, which is the server's default unless set.
# In UTC, psycopg gives them the ``datetime.UTC`` zone itself, which the gateway's timestamp type
# (``UtcDateTime``) then passes through instead of converting every value; and anything the
# database computes from a time (a date, a day boundary) no longer depends on the server. It is
# set by a statement on each new connection rather than as a startup option, which would replace
# the operator's ``PGOPTIONS`` and which older connection poolers refuse.
UTC_SESSION = "SET TIME ZONE 'UTC'"


class _Description(Sequence[Column]):
    """The columns of one result, built on first use."""

    __slots__ = ("_columns", "_cursor", "_result")

    def __init__(self, cursor: psycopg.Cursor[Any], result: PGresult) -> None:
        self._cursor = cursor
        self._result = result
        self._columns: list[Column] | None = None

    def _built(self) -> list[Column]:
        if self._columns is None:
            # A Column reads the cursor's current result: refuse to describe a later one.
            if self._cursor.pgresult is not self._result:
                raise psycopg.InterfaceError("the cursor has run another statement since")
            self._columns = [Column(self._cursor, i) for i in range(self._result.nfields)]
        return self._columns

    def __len__(self) -> int:
        return self._result.nfields

    @overload
    def __getitem__(self, index: int) -> Column: ...

    @overload
    def __getitem__(self, index: slice) -> list[Column]: ...

    def __getitem__(self, index: int | slice) -> Column | list[Column]:
        return self._built()[index]

    def __iter__(self) -> Iterator[Column]:
        return iter(self._built())

    def __repr__(self) -> str:
        return repr(self._built())


class LazyDescriptionCursor(psycopg.Cursor[Any]):
    """A client-side cursor whose ``description`` is a :class:`_Description`."""

    @property
    def description(self) -> Sequence[Column] | None:  # type: ignore[override]
        """The columns of the current result (``None`` when it returned no rows)."""
        result = self.pgresult
        if result is not None and result.nfields:
            return _Description(self, result)
        # No columns: psycopg's own answer (an empty list for "SELECT ;", None otherwise).
        return super().description


def connect_args(url: str) -> dict[str, Any]:
    """The connection arguments of an engine on ``url``: the cursor above on the psycopg
    driver, nothing on any other."""
    if make_url(url).get_driver_name() == "psycopg":
        return {"cursor_factory": LazyDescriptionCursor}
    return {}


def set_session(dbapi_connection: Any, *statements: str) -> None:
    """Prepare a new PostgreSQL connection (any driver): its session in UTC, then ``statements``
    (``SET ...``), run outside a transaction so that they hold for the connection's life."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    try:
        for statement in (UTC_SESSION, *statements):
            cursor.execute(statement)
    finally:
        cursor.close()
        dbapi_connection.autocommit = autocommit
