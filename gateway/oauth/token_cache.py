"""What a live access token may do, kept by each worker between calls, and the epoch that says
when it must be read again.

Every API call needs its token with the token's app and consent (one statement,
:func:`gateway.oauth.tokens.find_access`), and ``GET /accounts`` also needs the customer's
accounts and the bank's clock. They change seldom (a token or consent revoked, a consent renewed,
an app suspended, the sandbox clock moved) and are read on every call. So each worker keeps what it
read, tagged with the **authorisation epoch**: a value in the shared store that every commit
changing a row behind these reads replaces, once committed (:func:`watch`). The edge reads the
epoch in the round trip it makes anyway for the rate limits and the DPoP replay claim
(:mod:`gateway.edge.ratelimit`); an entry tagged with another epoch is dropped, and the call reads
the database as if there were no cache.

Why a revoked token is never served from here:

* An entry is tagged with the epoch this worker had seen *before* it read the rows. A change
  committed after that read replaces the epoch after its commit, so the next check sees a new
  epoch and drops the entry; a change committed before the read is in the entry.
* An entry serves a call only when the epoch was read during that call. When the store cannot be
  reached, the call reads the database.
* The epoch is a random value, set when missing: a store that restarts empty gets a new one,
  never an old one again.
* Entries live at most ``max_age`` seconds (``GATEWAY_TOKEN_CACHE_SECONDS``). That bounds the
  cases the epoch cannot see: a commit whose epoch change failed because the store was down at
  that moment (logged as an error), a Redis failover to a replica that had not received the
  change, and a process writing without the servers' store (a CLI run without
  ``GATEWAY_REDIS_URL``).
* Expiry is never cached: the token's and the consent's are compared with the clock on each call.

This module imports no Flask.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from gateway.core.accounts import Account

EPOCH_KEY = "authz:epoch"
# A session's mark that it wrote a watched row (in Session.info, until commit or rollback).
_CHANGED = "authz_changed"


def new_epoch() -> bytes:
    """A value no epoch had before."""
    return secrets.token_hex(16).encode()


@dataclass(frozen=True, slots=True)
class Listing:
    """A customer's accounts and the bank's clock, as ``GET /accounts`` read them: the clock as
    its offset from this machine's, so that it moves on."""

    accounts: Sequence[Account]
    clock_offset: dt.timedelta

    def now(self) -> dt.datetime:
        """The bank's time now."""
        return dt.datetime.now(dt.UTC) + self.clock_offset


@dataclass(slots=True)
class Entry:
    """A token as a call read it (``token`` is a :class:`gateway.oauth.tokens.AccessToken`), the
    epoch it was read under, and the listing of its consent's customer once a call read it."""

    token: Any
    epoch: bytes
    stored_at: float
    listing: Listing | None = None


class TokenCache:
    """The entries of one worker, keyed by the digest of the token value."""

    def __init__(self, max_age: float, max_entries: int = 10_000) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: dict[bytes, Entry] = {}
        self._lock = threading.Lock()
        # The epoch last read from the store (None: none yet, nothing is kept).
        self.epoch: bytes | None = None

    @staticmethod
    def key(value: str) -> bytes:
        """The key of a token value (the value itself is not kept)."""
        return hashlib.sha256(value.encode()).digest()

    def get(self, key: bytes) -> Entry | None:
        """The entry of ``key`` if it was read under the current epoch and is young enough."""
        entry = self._entries.get(key)
        if entry is None or entry.epoch != self.epoch:
            return None
        if time.monotonic() - entry.stored_at >= self.max_age:
            self._entries.pop(key, None)
            return None
        return entry

    def put(self, key: bytes, token: Any, epoch: bytes | None) -> Entry | None:
        """Keep ``token``, read after the epoch ``epoch`` was seen (see :attr:`epoch`)."""
        if epoch is None:
            return None
        entry = Entry(token, epoch, time.monotonic())
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = entry
        return entry

    def observe(self, epoch: bytes) -> None:
        """Take the epoch just read from the store; a new one drops every entry."""
        if epoch != self.epoch:
            with self._lock:
                if epoch != self.epoch:
                    self.epoch = epoch
                    self._entries.clear()

    def clear(self) -> None:
        """Drop every entry and forget the epoch."""
        with self._lock:
            self.epoch = None
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# The watched tables: each name with the columns whose change matters (None: every column; an
# empty collection: none, only deletes).
Watched = Mapping[str, Collection[str] | None]


def watch(
    factory: sessionmaker[Session],
    tables: Watched,
    changed: Callable[[], None],
    *,
    inserts: Collection[str] = (),
) -> None:
    """Call ``changed`` after each commit of a ``factory`` session that deleted a row of
    ``tables``, changed one of its watched columns (an empty collection: deletes only), or
    inserted a row into a table of ``inserts``: through the unit of work, or an INSERT, UPDATE or
    DELETE statement run by the session (an UPDATE whose columns cannot be told counts).

    Other inserts are not changes: no entry can hold a token, consent or app that did not exist
    when it was read. ``inserts`` names the tables whose new rows change what an entry holds (a
    customer's new account changes their listing). Statements that bypass the session
    (``session.connection().execute``, the driver's own cursor) are not seen."""

    def matters(table: str | None, columns: Collection[str] | None) -> bool:
        if table is None or table not in tables:
            return False
        watched = tables[table]
        return watched is None or columns is None or not set(watched).isdisjoint(columns)

    @event.listens_for(factory, "do_orm_execute")
    def _statement(state: ORMExecuteState) -> None:
        statement = state.statement
        table = _table_name(statement)
        # Values sent with the call join the SET clause too: then the columns cannot be told.
        columns = None if state.parameters else _set_columns(statement)
        if (
            (state.is_delete and table in tables)
            or (state.is_update and matters(table, columns))
            or (state.is_insert and table in inserts)
        ):
            state.session.info[_CHANGED] = True

    @event.listens_for(factory, "after_flush")
    def _flushed(session: Session, _context: Any) -> None:
        for instance in session.deleted:
            if _table_name(inspect(instance).mapper) in tables:
                session.info[_CHANGED] = True
                return
        for instance in session.new:
            if _table_name(inspect(instance).mapper) in inserts:
                session.info[_CHANGED] = True
                return
        for instance in session.dirty:
            found = inspect(instance)
            changed_columns = [
                prop.columns[0].name
                for prop in found.mapper.column_attrs
                if found.attrs[prop.key].history.has_changes()
            ]
            if matters(_table_name(found.mapper), changed_columns):
                session.info[_CHANGED] = True
                return

    # Both events also fire when a savepoint (begin_nested) is released or rolled back: only the
    # outermost transaction counts. A change inside a savepoint that rolled back stays marked,
    # which at worst moves the epoch for nothing.
    @event.listens_for(factory, "after_commit")
    def _committed(session: Session) -> None:
        if not session.in_nested_transaction() and session.info.pop(_CHANGED, False):
            changed()

    @event.listens_for(factory, "after_rollback")
    def _rolled_back(session: Session) -> None:
        if not session.in_nested_transaction():
            session.info.pop(_CHANGED, None)


def _set_columns(statement: Any) -> list[str] | None:
    """The names of the columns an UPDATE sets with ``.values()``; ``None`` when they cannot be
    told (no ``.values()``, or a SQLAlchemy that keeps them elsewhere)."""
    values = getattr(statement, "_values", None) or getattr(statement, "_ordered_values", None)
    if not values:
        return None
    keys = values.keys() if isinstance(values, Mapping) else (key for key, _value in values)
    return [str(getattr(key, "name", key)) for key in keys]


def _table_name(holder: Any) -> str | None:
    """The name of the table of a statement (``.table``) or a mapper (``.local_table``)."""
    table = getattr(holder, "table", None)
    if table is None:
        table = getattr(holder, "local_table", None)
    return getattr(table, "name", None)
