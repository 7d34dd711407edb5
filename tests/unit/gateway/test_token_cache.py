"""The worker's token cache and the commits that move the authorisation epoch
(gateway.oauth.token_cache)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Update,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from gateway.core.administration import SandboxBank
from gateway.oauth import token_cache
from gateway.oauth.token_cache import Listing, TokenCache
from gateway.store.database import Database
from partners.models import App, Organisation
from sandbox.models import Account, Customer, Tenant


def test_an_entry_serves_only_under_the_epoch_it_was_read_after() -> None:
    cache = TokenCache(max_age=30)
    key = cache.key("oba_token")
    assert cache.put(key, "token", None) is None  # no epoch seen yet: nothing is kept
    cache.observe(b"one")
    cache.put(key, "token", b"one")
    entry = cache.get(key)
    assert entry is not None and entry.token == "token"
    cache.observe(b"two")  # a commit elsewhere
    assert cache.get(key) is None and len(cache) == 0
    cache.put(key, "token", b"one")  # read before "two" was seen: not served under it
    assert cache.get(key) is None


def test_an_entry_lives_at_most_max_age(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = TokenCache(max_age=30)
    cache.observe(b"one")
    clock = [1000.0]
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: clock[0])
    key = cache.key("oba_token")
    cache.put(key, "token", b"one")
    clock[0] += 29.9
    assert cache.get(key) is not None
    clock[0] += 0.1
    assert cache.get(key) is None


def test_the_cache_is_bounded_and_keeps_no_token_value() -> None:
    cache = TokenCache(max_age=30, max_entries=3)
    cache.observe(b"one")
    for n in range(4):
        cache.put(cache.key(f"oba_{n}"), n, b"one")
    assert len(cache) == 1  # full: emptied, then the newest kept
    assert all(b"oba_" not in key for key in cache._entries)
    cache.clear()
    assert cache.epoch is None and len(cache) == 0


def test_a_listing_keeps_the_bank_clock_moving() -> None:
    listing = Listing((), dt.timedelta(days=3))
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    assert abs(listing.now() - expected) < dt.timedelta(seconds=1)


@pytest.fixture
def watched(app: Flask) -> Iterator[tuple[sessionmaker[Session], list[int]]]:
    """A session factory on the test database whose commits changing an app's name or status
    (ptn_app) are counted."""
    database: Database = app.extensions["database"]
    factory = sessionmaker(database.engine, expire_on_commit=False)
    calls: list[int] = []
    token_cache.watch(factory, {"ptn_app": ("name", "status")}, lambda: calls.append(1))
    yield factory, calls


def of_app(client_id: str) -> Update:
    """An UPDATE of the app ``client_id``."""
    return update(App).where(App.client_id == client_id)


def committed(factory: sessionmaker[Session], statement: Update, *params: dict[str, str]) -> None:
    """Run ``statement`` in a session of ``factory`` and commit."""
    with factory() as session:
        session.execute(statement, *params)
        session.commit()


def test_changes_through_the_unit_of_work_are_seen(
    watched: tuple[sessionmaker[Session], list[int]], partner_app: str
) -> None:
    factory, calls = watched
    with factory() as session:
        app = session.get(App, partner_app)
        assert app is not None
        app.name = "Renamed"
        session.flush()
        assert calls == []  # not before the commit
        session.commit()
    assert calls == [1]


def test_update_and_delete_statements_are_seen(
    watched: tuple[sessionmaker[Session], list[int]], partner_app: str
) -> None:
    factory, calls = watched
    committed(factory, of_app(partner_app).values(name="Again"))
    assert calls == [1]


def test_rollbacks_and_other_tables_are_not(
    watched: tuple[sessionmaker[Session], list[int]], partner_app: str
) -> None:
    factory, calls = watched
    with factory() as session:
        session.execute(of_app(partner_app).values(name="Undone"))
        session.rollback()
        session.commit()  # nothing left to commit
    with factory() as session:
        organisation = session.scalars(select(Organisation).limit(1)).one()
        organisation.legal_name = "Another table Ltd"
        session.commit()
    with factory() as session:
        assert session.get(Organisation, organisation.id).legal_name == "Another table Ltd"  # type: ignore[union-attr]
    assert calls == []


@pytest.fixture
def partner_app(app: Flask) -> str:
    """The client id of a committed app."""
    from tests.common.oauth import register_partner

    return register_partner(app, app.test_client()).client_id


def test_a_released_savepoint_is_not_the_commit(
    watched: tuple[sessionmaker[Session], list[int]], partner_app: str
) -> None:
    factory, calls = watched
    with factory() as session:
        session.execute(of_app(partner_app).values(name="Nested"))
        with session.begin_nested():
            pass  # released: SQLAlchemy calls after_commit for it too
        assert calls == []  # a worker reading now sees the old row: the epoch must move later
        session.commit()
    assert calls == [1]


def test_a_savepoint_rolled_back_keeps_the_change_before_it(
    watched: tuple[sessionmaker[Session], list[int]], partner_app: str
) -> None:
    factory, calls = watched
    with factory() as session:
        session.execute(of_app(partner_app).values(name="Kept"))
        savepoint = session.begin_nested()
        savepoint.rollback()  # SQLAlchemy calls after_rollback for it too
        session.commit()
    assert calls == [1]


def test_only_the_watched_columns_count(
    watched: tuple[sessionmaker[Session], list[int]], partner_app: str
) -> None:
    factory, calls = watched
    with factory() as session:
        app = session.get(App, partner_app)
        assert app is not None
        app.tier = "premium"  # not a watched column
        session.commit()
    committed(factory, of_app(partner_app).values(tier="standard"))
    assert calls == []
    committed(factory, of_app(partner_app).values(status="active"))
    assert calls == [1]
    # Values sent with the call instead of .values(): the columns cannot be told, so it counts.
    committed(factory, of_app(partner_app), {"tier": "sandbox"})
    assert calls == [1, 1]


def test_balances_and_the_due_work_bookmark_leave_the_epoch_alone(
    app: Flask, session: Session, core: SandboxBank, tenant: str
) -> None:
    core.ensure_tenant(tenant)
    session.commit()
    store = app.extensions["redis"]

    def moved(change: Callable[[], object]) -> bool:
        before = store.get(token_cache.EPOCH_KEY)
        change()
        session.commit()
        return bool(store.get(token_cache.EPOCH_KEY) != before)

    account = session.scalars(
        select(Account).join(Customer).where(Customer.tenant_id == tenant).limit(1)
    ).one()
    row = session.get(Tenant, tenant)
    assert row is not None
    book = update(Account).where(Account.pk == account.pk)
    assert not moved(
        lambda: session.execute(book.values(booked_balance=Account.booked_balance + 1))
    )
    assert not moved(lambda: setattr(row, "due_checked_at", row.due_checked_at + dt.timedelta(1)))
    assert moved(lambda: session.execute(book.values(nickname="Renamed")))
    assert moved(lambda: setattr(row, "clock_offset_seconds", row.clock_offset_seconds + 60))


@pytest.fixture
def probe(app: Flask) -> Iterator[tuple[sessionmaker[Session], Table]]:
    """A session factory and a table of this test's own."""
    database: Database = app.extensions["database"]
    table = Table(
        f"tc_probe_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("shown", String(20)),
        Column("hidden", String(20)),
    )
    table.create(database.engine)
    yield sessionmaker(database.engine), table
    table.drop(database.engine)


def test_inserts_count_only_where_asked_and_deletes_everywhere(
    probe: tuple[sessionmaker[Session], Table],
) -> None:
    factory, table = probe
    asked, other = sessionmaker(factory.kw["bind"]), sessionmaker(factory.kw["bind"])
    counted: dict[str, list[int]] = {"asked": [], "other": []}
    token_cache.watch(asked, {table.name: ("shown",)}, lambda: counted["asked"].append(1),
                      inserts=(table.name,))  # fmt: skip
    token_cache.watch(other, {table.name: ()}, lambda: counted["other"].append(1))
    for name, sessions in (("asked", asked), ("other", other)):
        with sessions() as session:
            session.execute(insert(table).values(id=len(counted[name]) + (name == "other") * 10))
            session.commit()
    assert counted == {"asked": [1], "other": []}  # a deletes-only table ignores new rows
    with other() as session:
        session.execute(update(table).values(shown="changed"))
        session.commit()
    assert counted["other"] == []  # and updates
    with other() as session:
        session.execute(delete(table).where(table.c.id == 10))
        session.commit()
    assert counted["other"] == [1]


def test_values_sent_with_the_call_count_beside_values(
    probe: tuple[sessionmaker[Session], Table],
) -> None:
    factory, table = probe
    calls: list[int] = []
    token_cache.watch(factory, {table.name: ("shown",)}, lambda: calls.append(1))
    with factory() as session:
        session.execute(insert(table).values(id=1))
        session.execute(update(table).values(hidden="x"))
        session.commit()
    assert calls == []
    with factory() as session:
        # The SET clause is hidden = ?, shown = ?: the columns cannot be told from .values().
        session.execute(update(table).values(hidden="y"), {"shown": "z"})
        session.commit()
    assert calls == [1]
