"""The worker's token cache and the commits that replace the versions it is tagged with
(gateway.oauth.token_cache): each commit replaces the versions of exactly what it changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import fakeredis
import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.core import changes
from gateway.core.administration import SandboxBank
from gateway.core.money import Money
from gateway.core.payments import PaymentOrder
from gateway.core.values import Counterparty
from gateway.oauth import token_cache
from gateway.oauth.token_cache import GENERATION_KEY, Listing, TokenCache, version_key
from gateway.store.database import Database
from partners.models import App, Organisation
from sandbox.models import Account


def _token(client_id: str = "cli_a", consent: Any = None) -> Any:
    return SimpleNamespace(client_id=client_id, consent=consent)


def test_an_entry_depends_on_its_token_app_consent_tenant_and_the_generation() -> None:
    consent = SimpleNamespace(id="aac-1", tenant_id="org-1")
    assert token_cache.keys_of("d1", _token(consent=consent)) == (
        GENERATION_KEY,
        "authz:v:token:d1",
        "authz:v:app:cli_a",
        "authz:v:consent:aac-1",
        "authz:v:tenant:org-1",
    )
    # A client-credentials token carries no consent.
    assert token_cache.keys_of("d2", _token()) == (
        GENERATION_KEY, "authz:v:token:d2", "authz:v:app:cli_a"
    )  # fmt: skip


def test_an_entry_lives_at_most_max_age(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = TokenCache(max_age=30)
    clock = [1000.0]
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: clock[0])
    cache.put("d", _token(), (b"g", None, None), confirmed=True)
    clock[0] += 29.9
    assert cache.get("d") is not None
    clock[0] += 0.1
    assert cache.get("d") is None and len(cache) == 0


def test_an_entry_past_max_age_names_its_versions_but_is_not_young(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = TokenCache(max_age=30)
    clock = [1000.0]
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: clock[0])
    entry = cache.put("d", _token(), (b"g", None, None), confirmed=True)
    assert cache.young(entry)
    clock[0] += 30
    # Recalled (its keys say what to read), never served as it is: it is read again.
    assert cache.recall("d") is entry and not cache.young(entry)
    assert cache.recall("unknown") is None


def test_the_cache_is_bounded_and_keeps_no_token_value() -> None:
    cache = TokenCache(max_age=30, max_entries=3)
    for n in range(4):
        cache.put(f"digest-{n}", _token(), (b"g",), confirmed=True)
    assert len(cache) == 1  # full: emptied, then the newest kept
    cache.drop("digest-3")
    assert len(cache) == 0


def test_versions_are_asked_with_a_generation_set_when_missing() -> None:
    store = fakeredis.FakeRedis()
    store.set(version_key("app", "cli_a"), b"v1")
    keys = token_cache.keys_of("d", _token())
    commands = token_cache.version_commands(keys, set_generation=True)
    assert [c[0] for c in commands] == ["SET", "MGET"]
    answers = [store.execute_command(*command) for command in commands]
    versions = token_cache.versions_of(answers)
    generation = store.get(GENERATION_KEY)
    assert generation is not None and versions == (generation, None, b"v1")
    # Once a generation was seen, the versions alone; a second SET NX keeps the first value.
    again = token_cache.version_commands(keys, set_generation=False)
    assert [c[0] for c in again] == ["MGET"]
    assert token_cache.versions_of([store.execute_command(*again[0])]) == versions
    store.execute_command(*commands[0])
    assert store.get(GENERATION_KEY) == generation


def test_publishing_replaces_each_version_with_a_new_value_that_outlives_entries() -> None:
    store = fakeredis.FakeRedis()
    store.set(GENERATION_KEY, b"g")
    assert token_cache.publish(store, {("consent", "aac-1"), ("app", "cli_a")}, everything=False)
    first = store.get(version_key("consent", "aac-1"))
    assert first and store.get(GENERATION_KEY) == b"g"
    assert store.ttl(version_key("consent", "aac-1")) > 3600  # longer than any entry lives
    assert token_cache.publish(store, {("consent", "aac-1")}, everything=True)
    assert store.get(version_key("consent", "aac-1")) != first
    assert store.get(GENERATION_KEY) != b"g"


def test_a_listing_keeps_the_bank_clock_moving() -> None:
    listing = Listing((), dt.timedelta(days=3))
    earliest = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    read = listing.now()
    assert earliest <= read <= dt.datetime.now(dt.UTC) + dt.timedelta(days=3)


class Watched:
    """A session factory on the test database whose commits publish into a store of its own."""

    def __init__(self, database: Database) -> None:
        self.factory = sessionmaker(database.engine, expire_on_commit=False)
        self.store = fakeredis.FakeRedis()
        self.store.set(GENERATION_KEY, b"g0")
        token_cache.watch(self.factory, self.store, None)

    def replaced(self) -> set[str]:
        """The keys replaced since the last call (the generation: when it changed)."""
        found = {k.decode() for k in self.store.keys("authz:v:*")}
        if self.store.get(GENERATION_KEY) != b"g0":
            found.add(GENERATION_KEY)
        self.store.flushdb()
        self.store.set(GENERATION_KEY, b"g0")
        return found


@pytest.fixture
def watched(app: Flask) -> Iterator[Watched]:
    yield Watched(app.extensions["database"])


@pytest.fixture
def partner_app(app: Flask) -> str:
    """The client id of a committed app."""
    from tests.common.oauth import register_partner

    return register_partner(app, app.test_client()).client_id


def _rename(session: Session, client_id: str, name: str) -> None:
    app = session.get(App, client_id)
    assert app is not None
    app.name = name
    session.flush()


def test_a_change_through_the_unit_of_work_replaces_its_version_after_the_commit(
    watched: Watched, partner_app: str
) -> None:
    with watched.factory() as session:
        _rename(session, partner_app, "Renamed")
        assert watched.replaced() == set()  # not before the commit
        session.commit()
    assert watched.replaced() == {version_key("app", partner_app)}


def test_a_rolled_back_change_or_an_insert_replaces_nothing(
    watched: Watched, partner_app: str
) -> None:
    with watched.factory() as session:
        _rename(session, partner_app, "Never")
        session.rollback()
    with watched.factory() as session:
        organisation = session.scalars(select(Organisation)).first()
        assert organisation is not None
        organisation.legal_name = "Another table Ltd"  # not behind any entry
        session.commit()
    assert watched.replaced() == set()


def test_a_bulk_statement_replaces_the_generation_unless_its_caller_marked_it(
    watched: Watched, partner_app: str
) -> None:
    with watched.factory() as session:
        session.execute(update(App).where(App.client_id == partner_app).values(name="Bulk"))
        session.commit()
    assert watched.replaced() == {GENERATION_KEY}
    with watched.factory() as session:
        changes.mark(session.info, "app", partner_app)
        session.execute(
            update(App).where(App.client_id == partner_app).values(name="Marked"),
            execution_options={token_cache.MARKED: True},
        )
        session.commit()
    assert watched.replaced() == {version_key("app", partner_app)}


def test_only_the_outermost_commit_publishes(watched: Watched, partner_app: str) -> None:
    with watched.factory() as session:
        _rename(session, partner_app, "Nested")
        with session.begin_nested():
            pass  # released: SQLAlchemy calls after_commit for it too
        assert watched.replaced() == set()  # a worker reading now sees the old row
        savepoint = session.begin_nested()
        _rename(session, partner_app, "Undone")
        savepoint.rollback()  # the savepoint only: the change before it stays
        session.commit()
    assert watched.replaced() == {version_key("app", partner_app)}


def test_the_bank_core_marks_the_tenants_whose_clock_or_data_it_changed(
    app: Flask, watched: Watched, tenant: str
) -> None:
    with watched.factory() as session:
        bank: SandboxBank = app.extensions["sandbox"](session)
        bank.ensure_tenant(tenant)
        session.commit()
    watched.replaced()
    with watched.factory() as session:
        bank = app.extensions["sandbox"](session)
        bank.advance_clock(tenant, dt.timedelta(hours=1))
        session.commit()
    assert version_key("tenant", tenant) in watched.replaced()
    with watched.factory() as session:
        # A payment changes balances, which no entry keeps: no tenant version moves.
        bank = app.extensions["sandbox"](session)
        account = session.scalars(
            select(Account).where(
                Account.tenant_id == tenant,
                Account.customer_pk.is_not(None),
                Account.account_subtype == "CurrentAccount",
                Account.currency == "GBP",
            )
        ).first()
        assert account is not None
        acme = Counterparty("Acme", "UK.OBIE.SortCodeAccountNumber", "12345612345678")
        money = Money(Decimal("0.01"), "GBP")
        bank.pay(tenant, PaymentOrder(account.public_id, money, acme, "PENNY"))
        session.commit()
    assert version_key("tenant", tenant) not in watched.replaced()
    with watched.factory() as session:
        app.extensions["sandbox"](session).reset_tenant(tenant)
        session.commit()
    assert version_key("tenant", tenant) in watched.replaced()


def test_a_store_that_cannot_take_the_versions_empties_the_workers_own_cache(
    app: Flask, partner_app: str, caplog: pytest.LogCaptureFixture
) -> None:
    import redis

    database: Database = app.extensions["database"]
    factory = sessionmaker(database.engine, expire_on_commit=False)
    cache = TokenCache(max_age=30)
    cache.put("d", _token(), (b"g",), confirmed=True)
    token_cache.watch(factory, redis.Redis(port=1, socket_connect_timeout=0.2), cache)
    with factory() as session:
        _rename(session, partner_app, "Unpublished")
        session.commit()
    assert len(cache) == 0
    assert "were not replaced" in caplog.text
