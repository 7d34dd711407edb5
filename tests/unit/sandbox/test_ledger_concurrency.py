"""The ledger under concurrency: threads with their own sessions booking on the same accounts.

On PostgreSQL (``postgres`` marker, a private schema from the ``postgres_url`` fixture) racing
transactions really interleave: the limit check must be part of the conditional ``UPDATE`` and
accounts must be locked in one order. SQLite (a migrated temporary file) serialises writers with
``BEGIN IMMEDIATE`` and a busy timeout; the same tests must give the same answers there.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.core.errors import InsufficientFunds
from gateway.store.database import make_engine
from sandbox import ledger
from sandbox.ledger import Leg
from sandbox.models import Account, Hold
from tests.common.factories import NOW, clearing, detail, fund, make_account, make_tenant

THREADS = 12
JOURNALS_PER_THREAD = 40
RACES = 20


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An engine of its own on a migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('concurrency') / 'ledger.sqlite3'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
    else:
        engine = make_engine(request.getfixturevalue("postgres_url"), pool_size=THREADS + 4)
    yield engine
    engine.dispose()


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(0..count-1)`` on ``count`` threads at once; return the results, re-raising."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(work, i) for i in range(count)]
        return [future.result(timeout=300) for future in futures]


def rows(engine: Engine, sql: str, **params: object) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


# -- many random transfers --------------------------------------------------------------------


@dataclass
class Outcome:
    booked: int = 0
    refused: int = 0
    errors: list[BaseException] = field(default_factory=list)


def test_random_concurrent_transfers_keep_the_books(db: Engine) -> None:
    tenant_id = f"c-{uuid.uuid4().hex[:12]}"
    limits = {"GBP": [0, 1_000, 5_000, 0], "EUR": [0, 2_500]}
    with Session(db) as session:
        make_tenant(session, tenant_id)
        accounts: dict[str, list[int]] = {}
        for currency, currency_limits in limits.items():
            opened = [
                make_account(session, tenant_id, currency=currency, credit_limit=limit)
                for limit in currency_limits
            ]
            for account in opened:
                fund(session, account, 10_000)
            accounts[currency] = [account.pk for account in opened]
        session.commit()
    initial = {currency: 10_000 * len(pks) for currency, pks in accounts.items()}

    def work(worker: int) -> Outcome:
        rng = random.Random(worker)
        outcome = Outcome()
        with Session(db) as session:
            for _ in range(JOURNALS_PER_THREAD):
                currency = rng.choice(sorted(accounts))
                payer, *payees = rng.sample(accounts[currency], 3 if currency == "GBP" else 2)
                # One payer, one or two payees, legs in random order: whatever the order of the
                # legs, the ledger must lock the accounts in one order (no deadlock).
                shares = [rng.randint(1, 8_000) for _ in payees]
                legs = [Leg(payer, -sum(shares), currency, detail("Out"))] + [
                    Leg(pk, share, currency, detail("In"))
                    for pk, share in zip(payees, shares, strict=True)
                ]
                rng.shuffle(legs)
                try:
                    ledger.post(
                        session, tenant_id=tenant_id, kind="transfer", legs=legs, booked_at=NOW
                    )
                    session.commit()
                    outcome.booked += 1
                except InsufficientFunds:
                    session.rollback()
                    outcome.refused += 1
                except DBAPIError as exc:  # deadlock, serialisation failure, lock timeout
                    session.rollback()
                    outcome.errors.append(exc)
        return outcome

    outcomes = run_together(THREADS, work)

    errors = [exc for outcome in outcomes for exc in outcome.errors]
    assert errors == [], f"{len(errors)} database errors, first: {errors[0]}"
    booked = sum(outcome.booked for outcome in outcomes)
    refused = sum(outcome.refused for outcome in outcomes)
    assert booked + refused == THREADS * JOURNALS_PER_THREAD
    assert booked > 0
    assert refused > 0, "no transfer ran into a limit: the test proves nothing about limits"
    ((journals,),) = rows(db, "SELECT COUNT(*) FROM sbx_journal WHERE tenant_id = :t", t=tenant_id)
    assert journals == booked + sum(len(pks) for pks in accounts.values())

    # Money is neither made nor lost: customer balances add up to what was funded ...
    totals = dict(
        rows(
            db,
            "SELECT currency, SUM(booked_balance) FROM sbx_account "
            "WHERE tenant_id = :t AND internal_code IS NULL GROUP BY currency",
            t=tenant_id,
        )
    )
    assert totals == initial
    # ... every journal balances, and so does the whole tenant.
    assert (
        rows(
            db,
            "SELECT p.journal_pk, p.currency FROM sbx_posting p "
            "JOIN sbx_journal j ON j.pk = p.journal_pk WHERE j.tenant_id = :t "
            "GROUP BY p.journal_pk, p.currency HAVING SUM(p.amount) <> 0",
            t=tenant_id,
        )
        == []
    )
    assert (
        rows(
            db,
            "SELECT a.currency FROM sbx_posting p JOIN sbx_account a ON a.pk = p.account_pk "
            "WHERE a.tenant_id = :t GROUP BY a.currency HAVING SUM(p.amount) <> 0",
            t=tenant_id,
        )
        == []
    )
    # No account went beyond its limit, and each one's balance is the sum of its postings, with
    # balance_after the running balance in the order the postings were written.
    for pk, balance, held, limit in rows(
        db,
        "SELECT pk, booked_balance, held_amount, credit_limit FROM sbx_account "
        "WHERE tenant_id = :t AND internal_code IS NULL",
        t=tenant_id,
    ):
        assert balance - held + limit >= 0, f"account {pk} is beyond its limit: {balance}"
        lines = rows(
            db,
            "SELECT amount, balance_after FROM sbx_posting WHERE account_pk = :pk ORDER BY pk",
            pk=pk,
        )
        assert sum(amount for amount, _ in lines) == balance
        assert [after for _, after in lines] == list(accumulate(amount for amount, _ in lines))


# -- two debits racing for the same money -----------------------------------------------------


def race(db: Engine, count: int, attempt: Callable[[Session, int], object]) -> list[str]:
    """Let ``count`` threads run ``attempt(session, thread number)`` at the same moment, each in
    its own session and transaction, committing on success; return how each ended, sorted:
    "booked", "refused" (InsufficientFunds) or the name of the exception."""
    barrier = threading.Barrier(count, timeout=60)

    def one(i: int) -> str:
        with Session(db) as session:
            if db.dialect.name == "postgresql":
                # Open the transaction first, so that both have read the account before either
                # writes. (On SQLite a transaction takes the write lock at BEGIN: the other
                # thread could not reach the barrier.)
                session.execute(text("SELECT 1"))
            barrier.wait()
            try:
                attempt(session, i)
                session.commit()
            except InsufficientFunds:
                session.rollback()
                return "refused"
            except Exception as exc:
                session.rollback()
                return type(exc).__name__
            return "booked"

    return sorted(run_together(count, one))


def new_tenant(db: Engine) -> str:
    tenant_id = f"r-{uuid.uuid4().hex[:12]}"
    with Session(db) as session:
        make_tenant(session, tenant_id)
        session.commit()
    return tenant_id


def racing_account(db: Engine, tenant_id: str) -> tuple[int, int]:
    """A new account holding 100.00 (and no overdraft); returns its pk and clearing's."""
    with Session(db) as session:
        account = make_account(session, tenant_id)
        fund(session, account, 10_000)
        pks = account.pk, clearing(session, tenant_id, "GBP").pk
        session.commit()
    return pks


def stored(db: Engine, account_pk: int) -> tuple[int, int, list[int | None]]:
    """(booked_balance, held_amount, balance_after of each posting) of an account."""
    ((balance, held),) = rows(
        db, "SELECT booked_balance, held_amount FROM sbx_account WHERE pk = :pk", pk=account_pk
    )
    afters = [
        after
        for (after,) in rows(
            db,
            "SELECT balance_after FROM sbx_posting WHERE account_pk = :pk ORDER BY pk",
            pk=account_pk,
        )
    ]
    return balance, held, afters


def test_two_racing_debits_cannot_both_spend_the_same_money(db: Engine) -> None:
    tenant_id = new_tenant(db)
    endings: Counter[tuple[str, ...]] = Counter()
    for _ in range(RACES):
        account_pk, clearing_pk = racing_account(db, tenant_id)

        def debit(
            session: Session, _: int, account_pk: int = account_pk, to: int = clearing_pk
        ) -> None:
            ledger.post(
                session,
                tenant_id=tenant_id,
                kind="payment",
                legs=[
                    Leg(account_pk, -7_000, "GBP", detail("Payment")),
                    Leg(to, 7_000, "GBP", detail("Payment")),
                ],
                booked_at=NOW,
            )

        endings[tuple(race(db, 2, debit))] += 1
        assert stored(db, account_pk) == (3_000, 0, [10_000, 3_000])

    assert endings == {("booked", "refused"): RACES}


def test_two_racing_holds_cannot_both_reserve_the_same_money(db: Engine) -> None:
    tenant_id = new_tenant(db)
    endings: Counter[tuple[str, ...]] = Counter()
    for _ in range(RACES):
        account_pk, _ = racing_account(db, tenant_id)

        def hold(session: Session, _: int, account_pk: int = account_pk) -> None:
            account = session.get(Account, account_pk)
            assert account is not None
            ledger.place_hold(
                session,
                account,
                7_000,
                created_at=NOW,
                expires_at=NOW,
                information="Card authorisation",
            )

        endings[tuple(race(db, 2, hold))] += 1
        assert stored(db, account_pk) == (10_000, 7_000, [10_000])

    assert endings == {("booked", "refused"): RACES}


def test_racing_settle_and_release_end_a_hold_once(db: Engine) -> None:
    tenant_id = new_tenant(db)
    endings: Counter[tuple[str, ...]] = Counter()
    for _ in range(RACES):
        account_pk, clearing_pk = racing_account(db, tenant_id)
        with Session(db) as session:
            account = session.get(Account, account_pk)
            assert account is not None
            hold_pk = ledger.place_hold(
                session, account, 4_000, created_at=NOW, expires_at=NOW, information="Card"
            ).pk
            session.commit()

        def end(session: Session, i: int, hold_pk: int = hold_pk, to: int = clearing_pk) -> None:
            hold = session.get(Hold, hold_pk)
            assert hold is not None
            if i == 0:
                ledger.settle_hold(
                    session,
                    hold,
                    tenant_id=tenant_id,
                    counter_account_pk=to,
                    booked_at=NOW,
                    detail=detail("Card"),
                )
            else:
                ledger.release_hold(session, hold)

        ending = race(db, 2, end)
        endings[tuple(ending)] += 1
        assert ending == ["InvalidInstruction", "booked"]
        ((status,),) = rows(db, "SELECT status FROM sbx_hold WHERE pk = :pk", pk=hold_pk)
        balance, held, afters = stored(db, account_pk)
        assert held == 0
        # Either the settlement won (the money is gone) or the release did (it is all back).
        assert (status, balance, afters) in [
            ("Settled", 6_000, [10_000, 6_000]),
            ("Released", 10_000, [10_000]),
        ]

    assert sum(endings.values()) == RACES


def test_racing_reversals_book_one_reversal(db: Engine) -> None:
    tenant_id = new_tenant(db)
    endings: Counter[tuple[str, ...]] = Counter()
    for _ in range(RACES):
        account_pk, clearing_pk = racing_account(db, tenant_id)
        with Session(db) as session:
            # A payment out: its reversal credits the account, so no limit decides the race.
            payment = ledger.post(
                session,
                tenant_id=tenant_id,
                kind="payment",
                legs=[
                    Leg(account_pk, -7_000, "GBP", detail("Payment")),
                    Leg(clearing_pk, 7_000, "GBP", detail("Payment")),
                ],
                booked_at=NOW,
            ).pk
            session.commit()

        def undo(session: Session, _: int, payment: int = payment) -> None:
            ledger.reverse(
                session, tenant_id=tenant_id, journal_pk=payment, booked_at=NOW, memo="race"
            )

        endings[tuple(race(db, 2, undo))] += 1
        assert stored(db, account_pk) == (10_000, 0, [10_000, 3_000, 10_000])
        assert rows(db, "SELECT COUNT(*) FROM sbx_journal WHERE reverses_pk = :pk", pk=payment) == [
            (1,)
        ]

    assert endings == {("AlreadyReversed", "booked"): RACES}
