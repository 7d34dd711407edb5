"""The reads every API call makes, compiled once and run on the driver's own cursor.

Every API call reads its token (with its app and consent) and ``GET /accounts`` the customer's
accounts (with the bank's clock), when the worker does not keep them (:mod:`~gateway.oauth.
token_cache`). SQLAlchemy's execution of such a statement (a context, its parameters, a result
and its rows) added some 60 microseconds of client CPU to the driver's 140 for the token's. A
:class:`Prepared` select keeps what SQLAlchemy compiles of it, once per dialect: the SQL, how its
parameters are laid out, and the processors of its result columns (SQLAlchemy's own: a
timestamp read from SQLite, the gateway's UTC timestamps);
:meth:`Prepared.run` sends it on the cursor of a connection's driver and returns its rows as named
tuples, which read like SQLAlchemy's rows (by attribute, by index, sliced).

What SQLAlchemy does around a statement that others rely on is kept: the engine's
``before_cursor_execute`` and ``after_cursor_execute`` listeners hear it (their return values are
not used), and a driver's error is raised as SQLAlchemy's (:class:`~sqlalchemy.exc.DBAPIError`
and its kinds), its connection invalidated when the server dropped it, so that the reader's retry
and the 503 of an outage work as before. Only plain selects: no expanding (``IN``) or literal
parameters.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError

# Rows are named tuples of the selected columns, made per statement (so untyped here).
_namedtuple: Any = namedtuple
# A processor SQLAlchemy applies to a value it binds or reads (None: the value as it is).
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A select as one dialect runs it."""

    sql: str
    # The parameter names in the order the SQL takes them (positional paramstyles), or None.
    positions: tuple[str, ...] | None
    # The parameters with the values the statement itself binds (literals), and their processors.
    defaults: Mapping[str, Any]
    binds: Mapping[str, Processor]
    # The parameters the caller must give.
    required: frozenset[str]


class Prepared:
    """A select of the hot path (see the module's docstring)."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        names = [column.key for column in statement.selected_columns]
        self._make: Callable[[Iterable[Any]], Any] = _namedtuple("Row", names)._make
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}
        self._results: dict[tuple[str, str, str], Sequence[Processor]] = {}

    def run(self, connection: Connection, parameters: Mapping[str, Any]) -> list[Any]:
        """Run the select on ``connection`` with ``parameters``; every row."""
        dialect = connection.dialect
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        compiled = self._compiled.get(key) or self._compile(dialect, key)
        arguments = _arguments(compiled, parameters)
        # (Typed Optional: a connection checked out of the pool always has one.)
        dbapi_connection: Any = connection.connection.dbapi_connection
        cursor = dbapi_connection.cursor()
        try:
            dispatch = connection.dispatch
            dispatch.before_cursor_execute(connection, cursor, compiled.sql, arguments, None, False)
            cursor.execute(compiled.sql, arguments)
            dispatch.after_cursor_execute(connection, cursor, compiled.sql, arguments, None, False)
            rows = cursor.fetchall()
            processors = self._results.get(key) or self._processors(dialect, key, cursor)
        except dialect.loaded_dbapi.Error as exc:
            # As SQLAlchemy does (Connection._handle_dbapi_exception): a connection the server
            # dropped is invalidated (the pool makes a new one), and so is every pooled one made
            # before it, which the same restart ended (without this, the caller's retry meets the
            # next of them); the error is SQLAlchemy's, which says so.
            dropped = dialect.is_disconnect(exc, dbapi_connection, cursor)
            if dropped:
                connection.engine.pool._invalidate(connection.connection, exc)
                connection.invalidate(exc)
            raise DBAPIError.instance(
                compiled.sql, arguments, exc, dialect.loaded_dbapi.Error,
                connection_invalidated=dropped, dialect=dialect,
            ) from exc  # fmt: skip
        finally:
            cursor.close()
        make = self._make
        if not any(processors):
            return [make(row) for row in rows]
        return [make([v if p is None else p(v) for p, v in zip(processors, row, strict=True)])
                for row in rows]  # fmt: skip

    def _compile(self, dialect: Dialect, key: tuple[str, str, str]) -> _Compiled:
        compiled: Any = self.statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a prepared read takes plain parameters only")
        required = frozenset(b.key for b in compiled.binds.values() if b.required)
        defaults = compiled.construct_params(dict.fromkeys(required))
        binds = {
            name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in defaults
            if name in compiled.binds
        }
        positions = tuple(compiled.positiontup) if compiled.positional else None
        found = _Compiled(str(compiled), positions, defaults, binds, required)
        self._compiled[key] = found
        return found

    def _processors(
        self, dialect: Dialect, key: tuple[str, str, str], cursor: Any
    ) -> Sequence[Processor]:
        """The result processors of the columns, as SQLAlchemy would find them (by the column's
        type and the driver's type code)."""
        codes = [column[1] for column in cursor.description or ()]
        columns = self.statement.selected_columns
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, code)
            for column, code in zip(columns, codes, strict=True)
        )
        self._results[key] = processors
        return processors


def _arguments(compiled: _Compiled, parameters: Mapping[str, Any]) -> Any:
    """The driver's parameters: the statement's own, then the caller's, processed as bound."""
    if not compiled.required <= parameters.keys():
        raise KeyError(f"parameters missing: {sorted(compiled.required - parameters.keys())}")
    values = {**compiled.defaults, **parameters}
    for name, processor in compiled.binds.items():
        if processor is not None:
            values[name] = processor(values[name])
    if compiled.positions is None:
        return values
    return tuple(values[name] for name in compiled.positions)
