"""One row written by one ``INSERT ... RETURNING``, outside the ORM's flush.

A flush of the unit of work sorts what is pending, builds the statements of each table and
writes the identity map back; for one new row of a table that the request inserts and never
changes again (a ledger journal, a payment's record) that machinery costs far more than the
statement. :func:`insert_row` sends the statement at once and makes the object the session's,
as if it had been loaded: it is read and changed afterwards like any other.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from sqlalchemy import Insert, Table, insert, inspect
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

Row = TypeVar("Row")
# The statement of each mapped class and set of columns left to the table (read back).
_STATEMENTS: dict[tuple[Mapper[Any], tuple[str, ...]], Insert] = {}


def insert_row(session: Session, row: Row) -> Row:
    """Insert ``row`` (a new mapped object of one table: no relationships) now, with the values
    set on it; the columns it left unset (``None``) take the table's defaults and are read back
    (``RETURNING``), its primary key among them. The session then holds the object as
    persistent, as if it had been loaded."""
    mapper: Mapper[Any] = inspect(type(row))
    state = row.__dict__
    values: dict[str, Any] = {}
    unset = []
    for prop in mapper.column_attrs:
        value = state.get(prop.key)
        if value is None:
            unset.append(prop)
        else:
            values[prop.columns[0].key] = value
    key = (mapper, tuple(prop.key for prop in unset))
    statement = _STATEMENTS.get(key)
    if statement is None:
        table = cast(Table, mapper.local_table)
        statement = insert(table).returning(*(prop.columns[0] for prop in unset))
        _STATEMENTS[key] = statement
    returned = session.connection().execute(statement, values).one()
    for prop, value in zip(unset, returned, strict=True):
        set_committed_value(row, prop.key, value)
    make_transient_to_detached(row)
    session.add(row)
    return row
