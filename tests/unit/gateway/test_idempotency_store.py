"""The keys in the database (gateway.api.idempotency.store): claim, replay, refuse, expire,
purge, on the configured store and on PostgreSQL; a claim racing another waits for it."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.api.idempotency import store
from gateway.api.idempotency.keys import LIFETIME
from gateway.api.idempotency.models import IdempotencyKey
from gateway.store.database import make_engine

T0 = dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)
RESPONSE = (201, {"Content-Type": "application/json", "x-jws-signature": "sig"}, b'{"Data":{}}')


@pytest.fixture(params=["configured", "postgres"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The configured test database (SQLite unless told otherwise), and PostgreSQL (which must be
    reachable under CI)."""
    fixture = "database_url" if request.param == "configured" else "postgres_url"
    url = request.getfixturevalue(fixture)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def scope(operation: str = "domestic-payment-consents", key: str = "k-1") -> store.Scope:
    """A scope of a client no other test uses."""
    return store.Scope(f"c-{uuid.uuid4().hex[:12]}", operation, key)


def answered(sessions: sessionmaker[Session], where: store.Scope, at: dt.datetime = T0) -> None:
    """Claim ``where`` with fingerprint "fp", keep :data:`RESPONSE` and commit."""
    with sessions() as session:
        claimed = store.claim(session, where, "fp", now=at)
        assert isinstance(claimed, store.Claimed)
        store.keep(session, claimed.row, *RESPONSE)
        session.commit()


def rows(sessions: sessionmaker[Session], where: store.Scope) -> int:
    with sessions() as session:
        count = session.scalar(
            select(func.count()).where(IdempotencyKey.client_id == where.client_id)
        )
        return int(count or 0)


def test_a_new_key_is_claimed_and_the_same_request_then_replayed(
    sessions: sessionmaker[Session],
) -> None:
    where = scope()
    answered(sessions, where)
    with sessions() as session:
        again = store.claim(session, where, "fp", now=T0 + dt.timedelta(hours=1))
    assert isinstance(again, store.Replay)
    assert (again.row.status, again.row.headers, again.row.body) == RESPONSE
    assert again.row.expires_at == T0 + LIFETIME
    assert rows(sessions, where) == 1


def test_another_request_with_the_key_is_a_mismatch(sessions: sessionmaker[Session]) -> None:
    where = scope()
    answered(sessions, where)
    with sessions() as session:
        assert isinstance(store.claim(session, where, "other", now=T0), store.Mismatch)
    assert rows(sessions, where) == 1


def test_a_key_is_scoped_per_client_and_per_operation(sessions: sessionmaker[Session]) -> None:
    where = scope()
    answered(sessions, where)
    other_client = store.Scope("c-other-" + uuid.uuid4().hex[:8], where.operation, where.key)
    other_operation = store.Scope(where.client_id, "funds-confirmation-consents", where.key)
    for elsewhere in (other_client, other_operation):
        with sessions() as session:
            assert isinstance(store.claim(session, elsewhere, "fp", now=T0), store.Claimed)
            session.commit()


def test_a_key_lives_24_hours_then_is_a_new_one(sessions: sessionmaker[Session]) -> None:
    where = scope()
    answered(sessions, where)
    with sessions() as session:
        last = T0 + LIFETIME - dt.timedelta(microseconds=1)
        assert isinstance(store.claim(session, where, "other", now=last), store.Mismatch)
    with sessions() as session:
        fresh = store.claim(session, where, "other", now=T0 + LIFETIME)
        assert isinstance(fresh, store.Claimed)
        session.commit()
    assert rows(sessions, where) == 1
    with sessions() as session:
        row = session.get_one(IdempotencyKey, (where.client_id, where.operation, where.key))
        assert (row.fingerprint, row.created_at, row.status) == ("other", T0 + LIFETIME, None)


def test_a_released_claim_frees_the_key(sessions: sessionmaker[Session]) -> None:
    where = scope()
    with sessions() as session:
        claimed = store.claim(session, where, "fp", now=T0)
        assert isinstance(claimed, store.Claimed)
        store.release(session, claimed.row)
        session.commit()
    with sessions() as session:
        assert isinstance(store.claim(session, where, "another", now=T0), store.Claimed)


def test_a_committed_row_without_a_response_is_in_flight(sessions: sessionmaker[Session]) -> None:
    where = scope()
    with sessions() as session:
        assert isinstance(store.claim(session, where, "fp", now=T0), store.Claimed)
        session.commit()
    with sessions() as session:
        assert isinstance(store.claim(session, where, "fp", now=T0), store.InFlight)


def test_the_lookup_reads_the_answered_unexpired_uses_of_a_key(
    sessions: sessionmaker[Session],
) -> None:
    where = scope()
    answered(sessions, where)
    funds = store.Scope(where.client_id, "funds-confirmation-consents", where.key)
    answered(sessions, funds, at=T0 + dt.timedelta(hours=2))
    unanswered = store.Scope(where.client_id, "domestic-payments", where.key)
    with sessions() as session:
        store.claim(session, unanswered, "fp", now=T0)
        session.commit()
    everything = ["domestic-payment-consents", "domestic-payments", "funds-confirmation-consents"]
    with sessions() as session:
        found = store.lookup(session, where.client_id, where.key, everything, now=T0)
        assert [r.operation for r in found] == ["domestic-payment-consents",
                                                "funds-confirmation-consents"]  # fmt: skip
        only = store.lookup(session, where.client_id, where.key, everything[:1], now=T0)
        assert [r.operation for r in only] == ["domestic-payment-consents"]
        later = T0 + LIFETIME + dt.timedelta(hours=1)
        assert [r.operation for r in store.lookup(
            session, where.client_id, where.key, everything, now=later
        )] == ["funds-confirmation-consents"]  # fmt: skip
        assert store.lookup(session, "c-nobody", where.key, everything, now=T0) == []


def test_purge_deletes_the_expired_keys_only(sessions: sessionmaker[Session]) -> None:
    old, recent = scope(key="old"), scope(key="recent")
    answered(sessions, old, at=T0 - LIFETIME)
    answered(sessions, recent, at=T0 - dt.timedelta(hours=23))
    with sessions() as session:
        assert store.purge(session, now=T0) >= 1
        session.commit()
    assert (rows(sessions, old), rows(sessions, recent)) == (0, 1)


# -- two requests at once ------------------------------------------------------------------------


def race(
    sessions: sessionmaker[Session], where: store.Scope, second: str, finish: str
) -> store.Claim:
    """Claim ``where`` in a first session; claim it again (fingerprint ``second``) in another
    thread, which must wait; then ``finish`` the first ("commit" with its response, or
    "rollback"); return what the second claim found."""
    first = sessions()
    claimed = store.claim(first, where, "fp", now=T0)
    assert isinstance(claimed, store.Claimed)
    started = threading.Event()

    def contender() -> store.Claim:
        with sessions() as session:
            started.set()
            outcome = store.claim(session, where, second, now=T0)
            session.commit()
            return outcome

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(contender)
        assert started.wait(10)
        # It waits for the first transaction (PostgreSQL: the key's index; SQLite: the lock).
        with pytest.raises(TimeoutError):
            pending.result(timeout=0.5)
        if finish == "commit":
            store.keep(first, claimed.row, *RESPONSE)
            first.commit()
        else:
            first.rollback()
        first.close()
        return pending.result(timeout=30)


def test_a_racing_claim_waits_for_the_first_and_replays_it(
    sessions: sessionmaker[Session],
) -> None:
    where = scope()
    outcome = race(sessions, where, "fp", "commit")
    assert isinstance(outcome, store.Replay)
    assert (outcome.row.status, outcome.row.body) == (RESPONSE[0], RESPONSE[2])
    assert rows(sessions, where) == 1


def test_a_racing_claim_of_another_request_is_a_mismatch(sessions: sessionmaker[Session]) -> None:
    where = scope()
    assert isinstance(race(sessions, where, "other", "commit"), store.Mismatch)
    assert rows(sessions, where) == 1


def test_a_racing_claim_proceeds_when_the_first_rolls_back(
    sessions: sessionmaker[Session],
) -> None:
    where = scope()
    outcome = race(sessions, where, "other", "rollback")
    assert isinstance(outcome, store.Claimed)
    with sessions() as session:
        row = session.get_one(IdempotencyKey, (where.client_id, where.operation, where.key))
        assert row.fingerprint == "other"
