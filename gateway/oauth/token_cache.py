"""What a live access token may do, kept by each worker between calls, and the versions that say
when it must be read again.

Every API call needs its token with the token's app and consent (one statement,
:func:`gateway.oauth.tokens.find_access`), and ``GET /accounts`` also needs the customer's
accounts and the bank's clock. They change seldom and are read on every call, so each worker
keeps what it read (an :class:`Entry`), tagged with the **versions** of what the entry depends
on: the token, its consent, its app, the consent's tenant (customers, accounts and clock), and
the store's generation. Each version is a value in the shared store that whoever commits a change
to that thing replaces (:func:`publish`, from the marks of :mod:`gateway.core.changes`). The
edge reads an entry's versions in the round trip it makes anyway for the rate limits and the
DPoP replay claim (:mod:`gateway.edge.roundtrip`); an entry whose versions moved is read again.
So one partner's refreshes, authorisations and payments drop only that partner's entries.

Why a revoked token is never served from here:

* An entry serves a call only when the versions read in that call's round trip equal its tags,
  and only when its rows were read *after* those versions were (it is *confirmed*). A change
  committed after the read replaces a version after its commit, so the next call sees it; one
  committed before is in the rows. The first read of a token happens before its versions are
  known (the round trip needs the token's app): that entry is read once more on the next call,
  after the versions, before it serves anything.
* When the store cannot be reached, the call reads the database.
* The generation is a random value set when missing: a store that restarts empty gets a new one,
  so every entry of every worker is read again (a version that vanished with the store can never
  match an old tag again). Versions outlive entries (:data:`VERSION_TTL` against the entries'
  ``max_age``, at most an hour).
* Entries live at most ``max_age`` seconds (``GATEWAY_TOKEN_CACHE_SECONDS``), which bounds what
  the versions cannot see: a commit whose versions could not be replaced because the store was
  down at that moment (logged as an error), a failover to a replica that missed the change, and
  writes that bypass the gateway's sessions. An older entry serves nothing: the call that finds
  it reads its token again after the versions, as for a version that moved, and keeps it anew.
* Expiry is never cached: the token's and the consent's are compared with the clock on each call.

This module imports no Flask.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from gateway.core import changes
from gateway.core.accounts import Account

log = logging.getLogger(__name__)
GENERATION_KEY = "authz:generation"
_VERSION_PREFIX = "authz:v:"
# How long a version outlives its last change: far longer than any entry lives.
VERSION_TTL = 86_400


def version_key(kind: str, key: str) -> str:
    """The store's key of the version of ``kind`` ``key`` (``token``, ``consent``, ``app`` or
    ``tenant``)."""
    return f"{_VERSION_PREFIX}{kind}:{key}"


def new_value() -> bytes:
    """A value no version or generation had before."""
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
    versions it depends on (``keys``) as last read (``tags``), whether its rows were read after
    those versions (``confirmed``), and the listing of its consent's customer once a call read
    it."""

    token: Any
    keys: tuple[str, ...]
    tags: tuple[bytes | None, ...]
    confirmed: bool
    stored_at: float
    listing: Listing | None = None


def keys_of(digest: str, token: Any) -> tuple[str, ...]:
    """The store keys an entry of ``token`` (whose value has the SHA-256 ``digest``) depends
    on: the generation, then the versions of the token, its app, and its consent and tenant
    (when it carries a consent)."""
    keys = [GENERATION_KEY, version_key("token", digest), version_key("app", token.client_id)]
    if token.consent is not None:
        keys.append(version_key("consent", token.consent.id))
        keys.append(version_key("tenant", token.consent.tenant_id))
    return tuple(keys)


class TokenCache:
    """The entries of one worker, keyed by the digest of the token value."""

    def __init__(self, max_age: float, max_entries: int = 10_000) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()
        # Whether the last versions read had a generation: until then, each round trip sets
        # one if there is none (a store that restarted empty gets a new one at once).
        self.generation_seen = False

    def get(self, digest: str) -> Entry | None:
        """The entry of ``digest`` if it is young enough (its versions are checked later)."""
        entry = self._entries.get(digest)
        if entry is not None and not self.young(entry):
            self._entries.pop(digest, None)
            return None
        return entry

    def recall(self, digest: str) -> Entry | None:
        """The entry of ``digest`` however old. One past ``max_age`` serves nothing (see
        :meth:`young`): it only names the versions to read, so that the call that finds it so
        reads it again once, after them, and keeps it confirmed. Dropping it instead would take
        two reads on two calls (a first read, before the versions, confirms nothing) and the
        listing read twice: with many tokens, every one of them each ``max_age``."""
        return self._entries.get(digest)

    def young(self, entry: Entry) -> bool:
        """Whether ``entry`` is younger than ``max_age``."""
        return time.monotonic() - entry.stored_at < self.max_age

    def put(
        self, digest: str, token: Any, tags: Sequence[bytes | None], *, confirmed: bool
    ) -> Entry:
        """Keep ``token`` (value digest ``digest``) under the versions ``tags`` of its
        :func:`keys_of`; ``confirmed`` when its rows were read after those versions."""
        entry = Entry(token, keys_of(digest, token), tuple(tags), confirmed, time.monotonic())
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest] = entry
        return entry

    def drop(self, digest: str) -> None:
        """Forget one entry."""
        self._entries.pop(digest, None)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def version_commands(keys: Sequence[str], *, set_generation: bool) -> list[tuple[str, ...]]:
    """The commands that read the versions of ``keys`` (the generation first), setting a
    generation first when ``set_generation`` (the worker saw none last time, or has not looked
    yet); their answers are for :func:`versions_of`."""
    read = ("MGET", *keys)
    return [("SET", GENERATION_KEY, new_value().decode(), "NX"), read] if set_generation else [read]


def versions_of(answers: Sequence[Any]) -> tuple[bytes | None, ...]:
    """The versions in the answers to :func:`queue_versions`."""
    return tuple(answers[-1])


def publish(store: redis.Redis, changed: Iterable[tuple[str, str]], *, everything: bool) -> bool:
    """Replace the versions of what a commit changed (``everything``: the generation, which
    every entry depends on); tell whether the store took it."""
    pipe = store.pipeline(transaction=False)
    if everything:
        pipe.set(GENERATION_KEY, new_value())
    for kind, key in changed:
        pipe.set(version_key(kind, key), new_value(), ex=VERSION_TTL)
    try:
        pipe.execute()
    except redis.RedisError as exc:
        log.error(
            "the versions of a commit's changes were not replaced (%s): other workers may serve "
            "what it changed for up to their cache's age",
            exc,
        )
        return False
    return True


# The tables behind an entry, by the kind of version a changed row replaces (its key column).
WATCHED: dict[str, tuple[str, str]] = {
    "gw_token": ("token", "access_hash"),
    "gw_consent": ("consent", "id"),
    "ptn_app": ("app", "client_id"),
}
# Deleting an organisation deletes its apps (and their tokens) by ON DELETE CASCADE: a change
# whose rows the session cannot name replaces the generation.
_CASCADING = frozenset({"ptn_organisation"})
# A statement option: the caller marked what its UPDATE or DELETE changes (gateway.core.changes).
MARKED = "authz_marked"
_EVERYTHING = "gateway.changes.everything"


def watch(factory: sessionmaker[Session], store: redis.Redis, cache: TokenCache | None) -> None:
    """After each commit of a ``factory`` session, replace the versions of what it changed: the
    tokens, consents and apps it updated or deleted (through the unit of work, or marked by the
    code that ran a bulk statement), and whatever :mod:`gateway.core.changes` marks say (the bank
    core's tenants). A bulk UPDATE or DELETE of those tables that marked nothing replaces the
    generation. Commits that change none of them cost nothing."""

    @event.listens_for(factory, "do_orm_execute")
    def _statement(state: ORMExecuteState) -> None:
        if not (state.is_update or state.is_delete) or state.execution_options.get(MARKED):
            return
        table = getattr(getattr(state.statement, "table", None), "name", None)
        if table in WATCHED or table in _CASCADING:
            state.session.info[_EVERYTHING] = True

    @event.listens_for(factory, "after_flush")
    def _flushed(session: Session, _context: Any) -> None:
        for instance in (*session.dirty, *session.deleted):
            table = inspect(instance).mapper.local_table.name
            if table in WATCHED:
                kind, column = WATCHED[table]
                changes.mark(session.info, kind, getattr(instance, column))  # type: ignore[arg-type]
            elif table in _CASCADING and instance in session.deleted:
                session.info[_EVERYTHING] = True

    # Both events also fire when a savepoint is released or rolled back: only the outermost
    # transaction counts. A change inside a savepoint that rolled back stays marked, which at
    # worst replaces a version for nothing.
    @event.listens_for(factory, "after_commit")
    def _committed(session: Session) -> None:
        if session.in_nested_transaction():
            return
        changed = changes.take(session.info)
        everything = bool(session.info.pop(_EVERYTHING, False))
        published = not (changed or everything) or publish(store, changed, everything=everything)
        if not published and cache is not None:
            cache.clear()

    @event.listens_for(factory, "after_rollback")
    def _rolled_back(session: Session) -> None:
        if not session.in_nested_transaction():
            changes.take(session.info)
            session.info.pop(_EVERYTHING, None)
