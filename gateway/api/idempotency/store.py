"""The keys in the database: claim one for a request, keep its response, find it, purge.

Plain functions over the request's :class:`~sqlalchemy.orm.Session`: they flush and never commit
(the request's one commit point, :mod:`gateway.edge.transaction`, commits the key with the
resource it guards, or rolls both back). No Flask.

How a duplicate is told apart, whatever the store:

* PostgreSQL: the claim inserts the key's row, ``ON CONFLICT DO NOTHING``. A second request's
  insert of the same (client, operation, key) waits on the primary key's index until the first
  request's transaction ends: when it committed, nothing is inserted and the second request
  reads the row, response included (wait and replay); when it rolled back, the insert goes ahead
  (the second request proceeds, as if it were the first).
* SQLite: every transaction begins ``BEGIN IMMEDIATE``, so a second writer waits for the first
  to commit or roll back before its claim reads anything; it then finds the committed row, or
  none. The insert's conflict clause is the same safety net there.

Either way a committed row holds its response (it is written before the commit), so a claim
that finds a row without one (:class:`InFlight`) means a row committed by something that is not
a request: refused as still in progress (409 ``U029``) rather than run twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from gateway.api.idempotency.keys import LIFETIME
from gateway.api.idempotency.models import IdempotencyKey

# A claim that loses the insert but then finds no row (purged or expired in between) tries again.
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose key it is: a client's, for one operation."""

    client_id: str
    operation: str
    key: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """The key is new: this request runs, and :func:`keep` stores what it was answered."""

    row: IdempotencyKey


@dataclass(frozen=True, slots=True)
class Replay:
    """The same request was answered before: answer it the same (``row`` holds the response)."""

    row: IdempotencyKey


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used for another request (another body or path) of this operation."""

    row: IdempotencyKey


@dataclass(frozen=True, slots=True)
class InFlight:
    """A committed row without a response (see the module's docstring), or a key whose row kept
    vanishing between a lost insert and the read after it (``row`` is then ``None``)."""

    row: IdempotencyKey | None


Claim = Claimed | Replay | Mismatch | InFlight


def claim(session: Session, scope: Scope, fingerprint: str, *, now: dt.datetime) -> Claim:
    """Claim ``scope``'s key for a request of this ``fingerprint``, or say how it was used.

    A key older than its lifetime is a new one: its row is deleted first. May wait for another
    request's transaction (see the module's docstring)."""
    for _ in range(_ATTEMPTS):
        row = IdempotencyKey(
            client_id=scope.client_id,
            operation=scope.operation,
            key=scope.key,
            fingerprint=fingerprint,
            created_at=now,
            expires_at=now + LIFETIME,
            status=None,
            headers=None,
            body=None,
        )
        if _insert(session, row):
            return Claimed(row)
        # Another request committed this key first: read what it was answered.
        found = _find(session, scope)
        if found is None:
            continue  # purged or expired in between: claim it again
        if found.expires_at <= now:
            _delete_expired(session, scope, now)
            session.expunge(found)  # gone: the claim's new row takes its identity
            continue
        return _answer(found, fingerprint)
    return InFlight(None)


def _insert(session: Session, row: IdempotencyKey) -> bool:
    """Insert the key's row unless its scope has one (``ON CONFLICT DO NOTHING``, one statement
    where a savepoint around an insert took three); whether it was inserted. The row becomes the
    session's, as if it had been loaded: what the request stores later is an update of it."""
    values = {c.key: getattr(row, c.key) for c in _TABLE.columns if getattr(row, c.key) is not None}
    connection = session.connection()
    statement = _CLAIMS[connection.dialect.name == "postgresql"]
    if connection.execute(statement, values).first() is None:
        return False
    make_transient_to_detached(row)
    session.add(row)
    return True


_TABLE = cast(Table, IdempotencyKey.__table__)
# The claim's statement on PostgreSQL (True) and SQLite (False), made once.
_CLAIMS = {
    postgres: dialect.insert(_TABLE).on_conflict_do_nothing().returning(_TABLE.c.key)
    for postgres, dialect in ((True, postgresql), (False, sqlite))
}
_KEPT = (
    update(_TABLE)
    .where(
        _TABLE.c.client_id == bindparam("kept_client_id"),
        _TABLE.c.operation == bindparam("kept_operation"),
        _TABLE.c.key == bindparam("kept_key"),
    )
    .values(
        {name: bindparam(name, type_=_TABLE.c[name].type) for name in ("status", "headers", "body")}
    )
)


def _answer(row: IdempotencyKey, fingerprint: str) -> Claim:
    if row.fingerprint != fingerprint:
        return Mismatch(row)
    if row.status is None:
        return InFlight(row)
    return Replay(row)


def _find(session: Session, scope: Scope) -> IdempotencyKey | None:
    statement = select(IdempotencyKey).where(
        IdempotencyKey.client_id == scope.client_id,
        IdempotencyKey.operation == scope.operation,
        IdempotencyKey.key == scope.key,
    )
    # Read again, never from the session's identity map: another transaction may have written it.
    found: IdempotencyKey | None = session.scalars(
        statement.execution_options(populate_existing=True)
    ).one_or_none()
    return found


def _delete_expired(session: Session, scope: Scope, now: dt.datetime) -> None:
    # A statement, not session.delete(): a request racing this one may have deleted it already.
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.client_id == scope.client_id,
            IdempotencyKey.operation == scope.operation,
            IdempotencyKey.key == scope.key,
            IdempotencyKey.expires_at <= now,
        ),
        execution_options={"synchronize_session": False},
    )


def keep(
    session: Session, row: IdempotencyKey, status: int, headers: dict[str, str], body: bytes
) -> None:
    """Store the response of the request that claimed ``row`` (written, not committed): one
    ``UPDATE``, the row the session holds given the same values."""
    session.connection().execute(_KEPT, {
        "kept_client_id": row.client_id, "kept_operation": row.operation, "kept_key": row.key,
        "status": status, "headers": headers, "body": body,
    })  # fmt: skip
    for name, value in (("status", status), ("headers", headers), ("body", body)):
        set_committed_value(row, name, value)


def release(session: Session, row: IdempotencyKey) -> None:
    """Give up a claim (the request failed): the key is free again once this is flushed."""
    session.delete(row)
    session.flush()


def lookup(
    session: Session,
    client_id: str,
    key: str,
    operations: Sequence[str],
    *,
    now: dt.datetime,
) -> list[IdempotencyKey]:
    """The client's answered, unexpired uses of ``key`` among ``operations``, by operation."""
    statement = (
        select(IdempotencyKey)
        .where(
            IdempotencyKey.client_id == client_id,
            IdempotencyKey.key == key,
            IdempotencyKey.operation.in_(operations),
            IdempotencyKey.expires_at > now,
            IdempotencyKey.status.is_not(None),
        )
        .order_by(IdempotencyKey.operation)
    )
    return list(session.scalars(statement))


def purge(session: Session, *, now: dt.datetime) -> int:
    """Delete every expired key; return how many."""
    result: Any = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount)
