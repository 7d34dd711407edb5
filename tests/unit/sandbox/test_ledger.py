"""Examples of the double-entry ledger (:mod:`sandbox.ledger`) on the test database.

Every refused operation is checked for leaving nothing behind: balances, journals and postings are
read back with SQL, not from the ORM objects the ledger may have touched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.core.errors import InsufficientFunds, InvalidInstruction, UnknownResource
from gateway.store.database import make_engine
from sandbox import ledger
from sandbox.ledger import AlreadyReversed, Leg, UnbalancedJournal
from sandbox.models import Account, Hold, Journal, Posting
from tests.common.factories import (
    NOW,
    clearing,
    detail,
    fund,
    make_account,
    make_tenant,
    transfer,
)

LATER = NOW + dt.timedelta(days=1)


@pytest.fixture
def bank(session: Session, tenant: str) -> str:
    """The tenant row of this test; returns its id."""
    make_tenant(session, tenant)
    return tenant


def balances(session: Session, account: Account) -> tuple[int, int]:
    """(booked_balance, held_amount) of ``account`` as stored, read with SQL."""
    row = session.execute(
        text("SELECT booked_balance, held_amount FROM sbx_account WHERE pk = :pk"),
        {"pk": account.pk},
    ).one()
    return int(row[0]), int(row[1])


def written(session: Session, tenant_id: str) -> tuple[int, int]:
    """(journals, postings) booked for ``tenant_id``, counted with SQL."""
    journals = session.execute(
        text("SELECT count(*) FROM sbx_journal WHERE tenant_id = :t"), {"t": tenant_id}
    ).scalar_one()
    postings = session.execute(
        text(
            "SELECT count(*) FROM sbx_posting p JOIN sbx_journal j ON j.pk = p.journal_pk "
            "WHERE j.tenant_id = :t"
        ),
        {"t": tenant_id},
    ).scalar_one()
    return int(journals), int(postings)


def postings_of(session: Session, journal: Journal) -> list[Posting]:
    """The postings of ``journal`` in the order they were written."""
    return list(
        session.scalars(
            select(Posting).where(Posting.journal_pk == journal.pk).order_by(Posting.pk)
        )
    )


def hold(session: Session, account: Account, amount: int) -> Hold:
    """Place a hold of ``amount`` minor units on ``account``."""
    return ledger.place_hold(
        session,
        account,
        amount,
        created_at=NOW,
        expires_at=NOW + dt.timedelta(days=7),
        information="Card authorisation",
        merchant_name="Corner Shop",
        merchant_mcc="5411",
    )


def debit(session: Session, account: Account, amount: int) -> Journal:
    """Pay ``amount`` minor units out of ``account`` to the clearing account."""
    out = clearing(session, account.tenant_id, account.currency)
    return ledger.post(
        session,
        tenant_id=account.tenant_id,
        kind="payment",
        legs=[
            Leg(account.pk, -amount, account.currency, detail("Payment out")),
            Leg(out.pk, amount, account.currency, detail("Payment out")),
        ],
        booked_at=LATER,
    )


# -- posting ----------------------------------------------------------------------------------


def test_transfer_moves_money_and_records_balance_after(session: Session, bank: str) -> None:
    alice = make_account(session, bank)
    bob = make_account(session, bank)
    fund(session, alice, 10_000)

    journal = transfer(session, alice, bob, 2_550)

    assert balances(session, alice) == (7_450, 0)
    assert balances(session, bob) == (2_550, 0)
    assert (alice.booked_balance, bob.booked_balance) == (7_450, 2_550)
    legs = [
        (p.account_pk, p.amount, p.currency, p.balance_after) for p in postings_of(session, journal)
    ]
    assert legs == [(alice.pk, -2_550, "GBP", 7_450), (bob.pk, 2_550, "GBP", 2_550)]
    assert journal.tenant_id == bank
    assert journal.kind == "transfer"
    assert journal.reverses_pk is None


def test_internal_legs_have_no_balance_after(session: Session, bank: str) -> None:
    account = make_account(session, bank, currency="EUR")

    journal = fund(session, account, 500)

    source = clearing(session, bank, "EUR")
    by_account = {p.account_pk: p for p in postings_of(session, journal)}
    assert by_account[source.pk].amount == -500
    assert by_account[source.pk].balance_after is None
    assert by_account[account.pk].balance_after == 500
    # Internal accounts keep no running balance on their row.
    assert balances(session, source) == (0, 0)


def test_balance_after_runs_through_several_legs_on_one_account(
    session: Session, bank: str
) -> None:
    account = make_account(session, bank)
    fund(session, account, 1_000)
    out = clearing(session, bank, "GBP")
    fees = ledger.internal_account(session, bank, "fees", "GBP")

    journal = ledger.post(
        session,
        tenant_id=bank,
        kind="payment",
        legs=[
            Leg(account.pk, -100, "GBP", detail("Payment")),
            Leg(out.pk, 100, "GBP", detail("Payment")),
            Leg(account.pk, -5, "GBP", detail("Fee")),
            Leg(fees.pk, 5, "GBP", detail("Fee")),
        ],
        booked_at=LATER,
    )

    assert [(p.amount, p.balance_after) for p in postings_of(session, journal)] == [
        (-100, 900),
        (100, None),
        (-5, 895),
        (5, None),
    ]
    assert balances(session, account) == (895, 0)


def test_internal_account_is_created_once(session: Session, bank: str) -> None:
    first = ledger.internal_account(session, bank, "clearing", "JPY")
    again = ledger.internal_account(session, bank, "clearing", "JPY")
    other = ledger.internal_account(session, bank, "clearing", "GBP")

    assert first.pk == again.pk
    assert other.pk != first.pk
    assert (first.internal_code, first.currency, first.customer_pk) == ("clearing:JPY", "JPY", None)


def _legs(a: Account, b: Account, case: str) -> list[Leg]:
    d = detail()
    cases = {
        "unbalanced": [Leg(a.pk, -100, "GBP", d), Leg(b.pk, 99, "GBP", d)],
        "one leg": [Leg(b.pk, 100, "GBP", d)],
        "no legs": [],
        "zero legs": [Leg(a.pk, 0, "GBP", d), Leg(b.pk, 0, "GBP", d)],
        "bool amount": [Leg(a.pk, -1, "GBP", d), Leg(b.pk, True, "GBP", d)],
        "balanced only in total": [
            Leg(a.pk, -100, "GBP", d),
            Leg(b.pk, 100, "EUR", d),
        ],
    }
    return cases[case]


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("unbalanced", UnbalancedJournal),
        ("one leg", UnbalancedJournal),
        ("no legs", UnbalancedJournal),
        ("zero legs", InvalidInstruction),
        ("bool amount", InvalidInstruction),
        ("balanced only in total", UnbalancedJournal),
    ],
)
def test_malformed_journal_is_refused_and_nothing_written(
    session: Session, bank: str, case: str, error: type[Exception]
) -> None:
    a = make_account(session, bank)
    b = make_account(session, bank)
    fund(session, a, 1_000)
    before = written(session, bank)

    with pytest.raises(error):
        ledger.post(session, tenant_id=bank, kind="x", legs=_legs(a, b, case), booked_at=LATER)

    assert written(session, bank) == before
    assert balances(session, a) == (1_000, 0)
    assert balances(session, b) == (0, 0)


def test_unbalanced_journal_is_invalid_instruction() -> None:
    assert issubclass(UnbalancedJournal, InvalidInstruction)
    assert issubclass(AlreadyReversed, InvalidInstruction)


def test_currency_mismatch_is_refused(session: Session, bank: str) -> None:
    pounds = make_account(session, bank, currency="GBP")
    euros = make_account(session, bank, currency="EUR")
    fund(session, pounds, 1_000)
    before = written(session, bank)

    # Balanced in GBP, but the second account keeps euros.
    with pytest.raises(InvalidInstruction, match="EUR"):
        ledger.post(
            session,
            tenant_id=bank,
            kind="transfer",
            legs=[Leg(pounds.pk, -100, "GBP", detail()), Leg(euros.pk, 100, "GBP", detail())],
            booked_at=LATER,
        )

    assert written(session, bank) == before
    assert balances(session, pounds) == (1_000, 0)
    assert balances(session, euros) == (0, 0)


def test_disabled_account_is_refused(session: Session, bank: str) -> None:
    payer = make_account(session, bank)
    closed = make_account(session, bank, status="Disabled")
    fund(session, payer, 1_000)
    before = written(session, bank)

    with pytest.raises(InvalidInstruction, match="Disabled"):
        transfer(session, payer, closed, 100)

    assert written(session, bank) == before
    assert balances(session, payer) == (1_000, 0)


def test_account_of_another_tenant_is_unknown(session: Session, bank: str, tenant: str) -> None:
    other = make_tenant(session, f"{tenant}-other").id
    mine = make_account(session, bank)
    theirs = make_account(session, other)
    fund(session, mine, 1_000)
    before = written(session, bank), written(session, other)

    with pytest.raises(UnknownResource):
        ledger.post(
            session,
            tenant_id=bank,
            kind="transfer",
            legs=[Leg(mine.pk, -100, "GBP", detail()), Leg(theirs.pk, 100, "GBP", detail())],
            booked_at=LATER,
        )
    # Booking in the other tenant's name does not reach this tenant's account either.
    with pytest.raises(UnknownResource):
        ledger.post(
            session,
            tenant_id=other,
            kind="transfer",
            legs=[Leg(mine.pk, -100, "GBP", detail()), Leg(theirs.pk, 100, "GBP", detail())],
            booked_at=LATER,
        )

    assert (written(session, bank), written(session, other)) == before
    assert balances(session, mine) == (1_000, 0)
    assert balances(session, theirs) == (0, 0)


# -- limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("payer_first", [True, False], ids=["payer-lower-pk", "payer-higher-pk"])
def test_debit_beyond_funds_is_refused_and_nothing_written(
    session: Session, bank: str, payer_first: bool
) -> None:
    # With the payer second in primary-key order the payee is credited before the payer's debit
    # fails: the savepoint must undo that credit too.
    first = make_account(session, bank)
    second = make_account(session, bank)
    payer, payee = (first, second) if payer_first else (second, first)
    payer.credit_limit = 500
    session.flush()
    fund(session, payer, 1_000)
    fund(session, payee, 200)
    before = written(session, bank)

    with pytest.raises(InsufficientFunds):
        transfer(session, payer, payee, 1_501)

    assert written(session, bank) == before
    assert balances(session, payer) == (1_000, 0)
    assert balances(session, payee) == (200, 0)
    # The ORM objects agree with the database.
    assert (payer.booked_balance, payee.booked_balance) == (1_000, 200)
    session.expire_all()
    assert (payer.booked_balance, payee.booked_balance) == (1_000, 200)

    # The caller's transaction is still usable: the next posting goes through and commits.
    transfer(session, payer, payee, 1_500)
    session.commit()
    assert balances(session, payer) == (-500, 0)
    assert balances(session, payee) == (1_700, 0)
    assert written(session, bank) == (before[0] + 1, before[1] + 2)


def test_refusal_keeps_earlier_work_of_the_same_transaction(session: Session, bank: str) -> None:
    a = make_account(session, bank)
    b = make_account(session, bank)
    fund(session, a, 300)
    transfer(session, a, b, 100)  # not committed yet

    with pytest.raises(InsufficientFunds):
        transfer(session, a, b, 201)

    assert balances(session, a) == (200, 0)
    assert balances(session, b) == (100, 0)
    assert written(session, bank) == (2, 4)


def test_overdraft_goes_down_to_minus_the_limit_exactly(session: Session, bank: str) -> None:
    account = make_account(session, bank, credit_limit=5_000)
    fund(session, account, 1_000)

    debit(session, account, 6_000)
    assert balances(session, account) == (-5_000, 0)

    before = written(session, bank)
    with pytest.raises(InsufficientFunds):
        debit(session, account, 1)
    assert balances(session, account) == (-5_000, 0)
    assert written(session, bank) == before


def test_one_minor_unit_beyond_the_limit_is_refused(session: Session, bank: str) -> None:
    account = make_account(session, bank, credit_limit=5_000, currency="JPY")
    fund(session, account, 1_000)

    with pytest.raises(InsufficientFunds):
        debit(session, account, 6_001)
    assert balances(session, account) == (1_000, 0)

    debit(session, account, 6_000)
    assert balances(session, account) == (-5_000, 0)


def test_account_without_limit_cannot_go_negative(session: Session, bank: str) -> None:
    account = make_account(session, bank)

    with pytest.raises(InsufficientFunds):
        debit(session, account, 1)

    fund(session, account, 1)
    debit(session, account, 1)
    assert balances(session, account) == (0, 0)


def test_internal_accounts_have_no_limit(session: Session, bank: str) -> None:
    account = make_account(session, bank)

    # Clearing pays out far more than it ever received.
    fund(session, account, 10**12)

    total = session.execute(
        select(func.sum(Posting.amount)).where(
            Posting.account_pk == clearing(session, bank, "GBP").pk
        )
    ).scalar_one()
    assert total == -(10**12)


# -- holds ------------------------------------------------------------------------------------


def test_hold_reduces_what_can_be_debited_and_release_restores_it(
    session: Session, bank: str
) -> None:
    account = make_account(session, bank, credit_limit=100)
    fund(session, account, 1_000)

    placed = hold(session, account, 700)
    assert balances(session, account) == (1_000, 700)
    assert (placed.status, placed.amount, placed.currency) == ("Active", 700, "GBP")

    with pytest.raises(InsufficientFunds):
        debit(session, account, 401)
    with pytest.raises(InsufficientFunds):
        hold(session, account, 401)
    assert balances(session, account) == (1_000, 700)

    ledger.release_hold(session, placed)
    assert balances(session, account) == (1_000, 0)
    assert session.scalar(select(Hold.status).where(Hold.pk == placed.pk)) == "Released"

    debit(session, account, 1_100)
    assert balances(session, account) == (-100, 0)


def test_hold_up_to_the_available_amount_exactly(session: Session, bank: str) -> None:
    account = make_account(session, bank, credit_limit=100)
    fund(session, account, 1_000)

    hold(session, account, 1_100)

    assert balances(session, account) == (1_000, 1_100)
    with pytest.raises(InsufficientFunds):
        hold(session, account, 1)
    with pytest.raises(InsufficientFunds):
        debit(session, account, 1)
    assert session.scalar(select(func.count()).where(Hold.account_pk == account.pk)) == 1


@pytest.mark.parametrize("amount", [0, -5])
def test_hold_amount_must_be_positive(session: Session, bank: str, amount: int) -> None:
    account = make_account(session, bank)
    fund(session, account, 1_000)

    with pytest.raises(InvalidInstruction):
        hold(session, account, amount)
    assert balances(session, account) == (1_000, 0)


def test_hold_on_internal_account_is_refused(session: Session, bank: str) -> None:
    with pytest.raises(InvalidInstruction):
        hold(session, clearing(session, bank, "GBP"), 10)


def test_releasing_twice_is_refused(session: Session, bank: str) -> None:
    account = make_account(session, bank)
    fund(session, account, 1_000)
    placed = hold(session, account, 300)
    ledger.release_hold(session, placed, status="Expired")

    with pytest.raises(InvalidInstruction, match="not active"):
        ledger.release_hold(session, placed)

    assert balances(session, account) == (1_000, 0)
    assert session.scalar(select(Hold.status).where(Hold.pk == placed.pk)) == "Expired"


def test_settle_books_the_journal_and_ends_the_hold(session: Session, bank: str) -> None:
    account = make_account(session, bank)
    fund(session, account, 1_000)
    merchant = clearing(session, bank, "GBP")
    placed = hold(session, account, 300)
    before = written(session, bank)

    journal = ledger.settle_hold(
        session,
        placed,
        tenant_id=bank,
        counter_account_pk=merchant.pk,
        booked_at=LATER,
        detail=detail("Corner Shop"),
    )

    assert balances(session, account) == (700, 0)
    assert written(session, bank) == (before[0] + 1, before[1] + 2)
    stored = session.execute(
        select(Hold.status, Hold.settled_journal_pk).where(Hold.pk == placed.pk)
    ).one()
    assert tuple(stored) == ("Settled", journal.pk)
    assert [(p.account_pk, p.amount, p.balance_after) for p in postings_of(session, journal)] == [
        (account.pk, -300, 700),
        (merchant.pk, 300, None),
    ]

    # A settled hold can be neither settled nor released again.
    with pytest.raises(InvalidInstruction):
        ledger.settle_hold(
            session,
            placed,
            tenant_id=bank,
            counter_account_pk=merchant.pk,
            booked_at=LATER,
            detail=detail(),
        )
    with pytest.raises(InvalidInstruction):
        ledger.release_hold(session, placed)
    assert balances(session, account) == (700, 0)
    assert written(session, bank) == (before[0] + 1, before[1] + 2)


def test_settle_a_different_amount(session: Session, bank: str) -> None:
    account = make_account(session, bank)
    fund(session, account, 1_000)
    placed = hold(session, account, 300)

    ledger.settle_hold(
        session,
        placed,
        tenant_id=bank,
        counter_account_pk=clearing(session, bank, "GBP").pk,
        booked_at=LATER,
        detail=detail("Restaurant, with tip"),
        amount=345,
    )

    assert balances(session, account) == (655, 0)


def test_settle_beyond_funds_is_refused_atomically(session: Session, bank: str) -> None:
    account = make_account(session, bank, credit_limit=50)
    fund(session, account, 1_000)
    placed = hold(session, account, 300)
    before = written(session, bank)

    # The hold's 300 comes back, but 1_051 is still more than 1_000 + 50.
    with pytest.raises(InsufficientFunds):
        ledger.settle_hold(
            session,
            placed,
            tenant_id=bank,
            counter_account_pk=clearing(session, bank, "GBP").pk,
            booked_at=LATER,
            detail=detail(),
            amount=1_051,
        )

    assert balances(session, account) == (1_000, 300)
    assert written(session, bank) == before
    assert session.scalar(select(Hold.status).where(Hold.pk == placed.pk)) == "Active"
    assert session.scalar(select(Hold.settled_journal_pk).where(Hold.pk == placed.pk)) is None
    assert (placed.status, account.held_amount) == ("Active", 300)

    # The hold is still there to be released.
    ledger.release_hold(session, placed)
    assert balances(session, account) == (1_000, 0)


# -- reversals --------------------------------------------------------------------------------


def test_reversal_books_negated_legs_linked_to_the_original(session: Session, bank: str) -> None:
    alice = make_account(session, bank)
    bob = make_account(session, bank)
    fund(session, alice, 1_000)
    original = transfer(session, alice, bob, 400)

    reversal = ledger.reverse(
        session, tenant_id=bank, journal_pk=original.pk, booked_at=LATER, memo="sent in error"
    )

    assert reversal.reverses_pk == original.pk
    assert (reversal.kind, reversal.memo) == ("reversal", "sent in error")
    assert balances(session, alice) == (1_000, 0)
    assert balances(session, bob) == (0, 0)
    before = [(p.account_pk, p.amount, p.currency) for p in postings_of(session, original)]
    after = postings_of(session, reversal)
    assert [(p.account_pk, -p.amount, p.currency) for p in after] == before
    assert [p.balance_after for p in after] == [1_000, 0]
    assert all(p.btc_code == "ReversedTransaction" for p in after)
    assert all(p.information.startswith("Reversal: ") for p in after)
    # The original is untouched.
    assert [p.amount for p in postings_of(session, original)] == [-400, 400]


def test_reversing_twice_is_refused(session: Session, bank: str) -> None:
    account = make_account(session, bank)
    original = fund(session, account, 1_000)
    ledger.reverse(session, tenant_id=bank, journal_pk=original.pk, booked_at=LATER, memo="x")
    before = written(session, bank)

    with pytest.raises(AlreadyReversed):
        ledger.reverse(session, tenant_id=bank, journal_pk=original.pk, booked_at=LATER, memo="y")

    assert written(session, bank) == before
    assert balances(session, account) == (0, 0)


def test_reversing_a_credit_already_spent_is_refused(session: Session, bank: str) -> None:
    account = make_account(session, bank, credit_limit=100)
    credit = fund(session, account, 1_000)
    debit(session, account, 950)
    before = written(session, bank)

    # Taking the 1_000 back would leave -950, beyond the limit of 100.
    with pytest.raises(InsufficientFunds):
        ledger.reverse(session, tenant_id=bank, journal_pk=credit.pk, booked_at=LATER, memo="x")

    assert written(session, bank) == before
    assert balances(session, account) == (50, 0)
    # Once the account is topped up the reversal goes through, and only once.
    fund(session, account, 850)
    ledger.reverse(session, tenant_id=bank, journal_pk=credit.pk, booked_at=LATER, memo="x")
    assert balances(session, account) == (-100, 0)


def test_reversing_an_unknown_or_foreign_journal_is_refused(
    session: Session, bank: str, tenant: str
) -> None:
    other = make_tenant(session, f"{tenant}-other").id
    theirs = fund(session, make_account(session, other), 100)

    with pytest.raises(UnknownResource):
        ledger.reverse(session, tenant_id=bank, journal_pk=theirs.pk, booked_at=LATER, memo="x")
    with pytest.raises(UnknownResource):
        ledger.reverse(session, tenant_id=bank, journal_pk=10**9, booked_at=LATER, memo="x")
    assert written(session, bank) == (0, 0)
    assert written(session, other) == (1, 2)


# -- immutability -----------------------------------------------------------------------------


def _update_a_posting_is_refused(session: Session, tenant_id: str) -> None:
    make_tenant(session, tenant_id)
    account = make_account(session, tenant_id)
    journal = fund(session, account, 1_000)
    posting = postings_of(session, journal)[-1]

    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(
            text("UPDATE sbx_posting SET amount = 1 WHERE pk = :pk"), {"pk": posting.pk}
        )

    # The savepoint kept the transaction usable, and the posting is as it was.
    amount = session.execute(
        text("SELECT amount FROM sbx_posting WHERE pk = :pk"), {"pk": posting.pk}
    ).scalar_one()
    assert amount == 1_000


def test_database_refuses_to_update_a_posting(session: Session, tenant: str) -> None:
    _update_a_posting_is_refused(session, tenant)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def each_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database of each kind, whichever one the app fixture uses."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite3"
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url, pool_size=2)
    if request.param == "sqlite":
        migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_each_database_refuses_to_update_a_posting(each_engine: Engine, tenant: str) -> None:
    with Session(each_engine) as session:
        _update_a_posting_is_refused(session, tenant)
        session.rollback()


def test_a_settlement_amount_must_be_positive(session: Session, tenant: str) -> None:
    make_tenant(session, tenant)
    account = make_account(session, tenant)
    fund(session, account, 1_000)
    hold = ledger.place_hold(
        session, account, 300, created_at=NOW, expires_at=NOW, information="Shop"
    )
    counter = clearing(session, tenant, "GBP")
    with pytest.raises(InvalidInstruction):
        ledger.settle_hold(
            session, hold, tenant_id=tenant, counter_account_pk=counter.pk, booked_at=NOW,
            detail=detail(), amount=-500,
        )  # fmt: skip
    session.refresh(hold)
    assert hold.status == "Active"


def test_no_hold_on_a_disabled_account(session: Session, tenant: str) -> None:
    make_tenant(session, tenant)
    account = make_account(session, tenant)
    fund(session, account, 1_000)
    account.status = "Disabled"
    session.flush()
    with pytest.raises(InvalidInstruction):
        ledger.place_hold(session, account, 100, created_at=NOW, expires_at=NOW, information="X")
