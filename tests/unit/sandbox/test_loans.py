"""Loans in the sandbox bank: drawdown onto a loan account, servicing on the tenant's clock
(collection, short funds, arrears buckets, late fees, retries), early repayment, the loan book.
Every journal a loan posts balances."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.core.lending import QuoteRefused, QuoteRequest
from gateway.core.loans import (
    DrawdownRequest,
    InstalmentStatus,
    LoanRefused,
    LoanStatus,
    UnknownLoan,
)
from gateway.core.money import to_minor
from sandbox import clock, ledger
from sandbox.core import SandboxCore
from sandbox.loan_models import Loan
from sandbox.models import Account, Journal, Posting, Tenant
from tests.common.sandbox import sandbox_core

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LOAN = QuoteRequest(product_id="personal-loan", amount=Decimal("1200.00"), currency="GBP", term=12)


def _current(core: SandboxCore, tenant: str, funds: int = 500000) -> str:
    """A new current account of the tenant's first customer holding ``funds`` (minor units),
    which no standing order or direct debit touches."""
    core.now(tenant)  # the tenant's data set, made on first use
    session = core.session
    owner = session.scalar(
        select(Account.customer_pk).where(Account.tenant_id == tenant,
                                          Account.customer_pk.is_not(None)).order_by(Account.pk)
    )  # fmt: skip
    account = Account(
        tenant_id=tenant, public_id=f"acc-{uuid.uuid4().hex[:24]}", customer_pk=owner,
        currency="GBP", account_type="Personal", account_subtype="CurrentAccount",
        product_code="PCA-EVERYDAY", nickname="Loan test", opening_date=START.date(),
        status="Enabled", sort_code="040004", account_number="12345678", credit_limit=0,
        booked_balance=0, held_amount=0,
    )  # fmt: skip
    session.add(account)
    session.flush()
    if funds:
        _move(session, account, funds)
    return account.public_id


def _move(session: Session, account: Account, amount: int) -> None:
    """Pay ``amount`` minor units into ``account`` (out of it when negative)."""
    sink = ledger.internal_account(session, account.tenant_id, "clearing", account.currency)
    d = ledger.Detail(information="Test money")
    ledger.post(session, tenant_id=account.tenant_id, kind="test", booked_at=START, legs=[
        ledger.Leg(account.pk, amount, account.currency, d),
        ledger.Leg(sink.pk, -amount, account.currency, d)])  # fmt: skip


@pytest.fixture
def bank(session: Session) -> SandboxCore:
    return sandbox_core(session, real_time=lambda: START)


def _drawn(bank: SandboxCore, tenant: str, loan: QuoteRequest = LOAN) -> tuple[str, str]:
    account_id = _current(bank, tenant)
    drawn = bank.draw_down(tenant, DrawdownRequest(loan, account_id, f"fin-{tenant}"))
    return drawn.loan_id, account_id


def _row(session: Session, account_id: str) -> Account:
    found = session.scalar(select(Account).where(Account.public_id == account_id))
    assert found is not None
    session.refresh(found)
    return found


def _journals_balance(session: Session, tenant: str) -> None:
    sums = session.execute(
        select(Posting.journal_pk, Posting.currency, func.sum(Posting.amount))
        .join(Journal, Journal.pk == Posting.journal_pk)
        .where(Journal.tenant_id == tenant, Journal.kind.like("loan%"))
        .group_by(Posting.journal_pk, Posting.currency)
    ).all()
    assert sums and all(total == 0 for _pk, _ccy, total in sums)


def _drain(session: Session, account: Account, keep: int) -> None:
    """Leave ``keep`` minor units on ``account``."""
    session.refresh(account)
    if account.booked_balance != keep:
        _move(session, account, keep - account.booked_balance)
    session.flush()


def test_drawdown_opens_a_loan_account_and_pays_the_credit_out(
    bank: SandboxCore, session: Session, tenant: str
) -> None:
    account_id = _current(bank, tenant)
    before = _row(session, account_id).booked_balance
    quote = bank.quote(tenant, LOAN)
    loan = bank.draw_down(tenant, DrawdownRequest(LOAN, account_id, f"fin-{tenant}"))
    assert loan.status is LoanStatus.ACTIVE and loan.principal == quote.principal
    # Personal loan: the £99 fee is added to the loan; the customer receives the full amount.
    assert loan.principal == Decimal("1299.00") and loan.credit == Decimal("1200.00")
    assert _row(session, account_id).booked_balance - before == 120000
    account = bank.account(tenant, loan.account_id)
    assert account.account_subtype == "Loan" and account.customer_id
    assert bank.balances(tenant, loan.account_id).booked.amount == Decimal("-1299.00")
    assert (
        loan.balance == Decimal("1299.00") and loan.next_due_date == quote.instalments[0].due_date
    )
    history = bank.transactions(tenant, loan.account_id).items
    assert len(history) == 1 and history[0].amount.amount == Decimal("1299.00")
    fees = ledger.internal_account(session, tenant, "loan-fees", "GBP")
    assert fees.booked_balance == 0  # internal accounts carry no balance; postings do
    fee_posted = session.scalar(
        select(func.sum(Posting.amount)).where(Posting.account_pk == fees.pk)
    )
    assert fee_posted == 9900
    _journals_balance(session, tenant)
    assert [e.kind for e in bank.loan_events(tenant, loan.loan_id)] == ["Drawdown"]


def test_a_fee_deducted_from_the_loan_is_taken_from_the_payout(
    bank: SandboxCore, session: Session, tenant: str
) -> None:
    sme = QuoteRequest("sme-term-loan", Decimal("10000.00"), "GBP", 12)
    account_id = _current(bank, tenant)
    before = _row(session, account_id).booked_balance
    loan = bank.draw_down(tenant, DrawdownRequest(sme, account_id, f"fin-{tenant}"))
    assert loan.principal == Decimal("10000.00") and loan.credit < loan.principal
    paid = _row(session, account_id).booked_balance - before
    assert paid == to_minor(loan.credit, "GBP")
    assert loan.arrangement_fee == loan.principal - loan.credit
    _journals_balance(session, tenant)


def test_drawdown_refuses_what_the_product_does_not_lend_and_writes_nothing(
    bank: SandboxCore, session: Session, tenant: str
) -> None:
    account_id = _current(bank, tenant)
    mine = select(func.count()).select_from(Account).where(Account.tenant_id == tenant)
    accounts = session.scalar(mine)
    too_much = QuoteRequest("personal-loan", Decimal("99999.00"), "GBP", 12)
    with pytest.raises(QuoteRefused):
        bank.draw_down(tenant, DrawdownRequest(too_much, account_id, "fin-x"))
    assert session.scalar(mine) == accounts
    loans = select(func.count()).select_from(Loan).where(Loan.tenant_id == tenant)
    assert session.scalar(loans) == 0
    assert _row(session, account_id).booked_balance == 500000


def test_a_loan_cannot_be_paid_into_a_loan_account(bank: SandboxCore, tenant: str) -> None:
    loan_id, _ = _drawn(bank, tenant)
    loan_account = bank.loan(tenant, loan_id).account_id
    with pytest.raises(LoanRefused) as refused:
        bank.draw_down(tenant, DrawdownRequest(LOAN, loan_account, "fin-other"))
    assert refused.value.reason == "Account"


def test_instalments_are_collected_on_their_due_dates(
    bank: SandboxCore, session: Session, tenant: str
) -> None:
    loan_id, _account_id = _drawn(bank, tenant)
    first = bank.loan_schedule(tenant, loan_id)[0]
    bank.advance_clock(tenant, dt.timedelta(days=(first.due_date - START.date()).days))
    schedule = bank.loan_schedule(tenant, loan_id)
    assert schedule[0].status is InstalmentStatus.PAID and schedule[0].paid == first.amount
    assert schedule[1].status is InstalmentStatus.SCHEDULED
    loan = bank.loan(tenant, loan_id)
    assert loan.arrears == 0 and loan.days_past_due == 0
    assert loan.principal_outstanding == Decimal("1299.00") - first.principal
    assert loan.balance == loan.principal_outstanding
    kinds = [e.kind for e in bank.loan_events(tenant, loan_id)]
    assert kinds == ["Drawdown", "InstalmentDue", "Collected"]
    _journals_balance(session, tenant)


def test_short_funds_put_the_loan_in_arrears_with_a_late_fee_and_retries(
    bank: SandboxCore, session: Session, tenant: str
) -> None:
    loan_id, account_id = _drawn(bank, tenant)
    first = bank.loan_schedule(tenant, loan_id)[0]
    _drain(session, _row(session, account_id), 5000)
    bank.advance_clock(tenant, dt.timedelta(days=(first.due_date - START.date()).days))
    loan = bank.loan(tenant, loan_id)
    assert loan.arrears == first.amount - Decimal("50.00") + Decimal("12.00")
    assert loan.fees_outstanding == Decimal("12.00") and loan.days_past_due == 0
    kinds = [e.kind for e in bank.loan_events(tenant, loan_id)]
    assert kinds[-3:] == ["InstalmentDue", "PartlyCollected", "LateFeeCharged"]
    # Nothing more to take: a retry the next day fails; the loan is 1 day past due.
    bank.advance_clock(tenant, dt.timedelta(days=1))
    loan = bank.loan(tenant, loan_id)
    assert loan.days_past_due == 1 and loan.arrears_bucket == "1-29"
    events = bank.loan_events(tenant, loan_id)
    assert [e.kind for e in events][-2:] == ["CollectionFailed", "ArrearsChanged"]
    bank.advance_clock(tenant, dt.timedelta(days=30))
    assert bank.loan(tenant, loan_id).arrears_bucket == "30-59"
    # Money arrives: the next retry clears the arrears, instalments first, then the fee.
    _move(session, _row(session, account_id), 500000)
    bank.advance_clock(tenant, dt.timedelta(days=1))
    loan = bank.loan(tenant, loan_id)
    assert loan.arrears == 0 and loan.arrears_bucket is None and loan.fees_outstanding == 0
    assert bank.loan_events(tenant, loan_id)[-1].information == "Arrears bucket none"
    _journals_balance(session, tenant)


def test_days_past_due_reach_every_bucket(bank: SandboxCore, session: Session, tenant: str) -> None:
    loan_id, account_id = _drawn(bank, tenant)
    first = bank.loan_schedule(tenant, loan_id)[0]
    _drain(session, _row(session, account_id), 0)
    bank.advance_clock(tenant, dt.timedelta(days=(first.due_date - START.date()).days))
    seen = []
    for days in (1, 29, 30, 59, 60, 89, 90):
        target = first.due_date + dt.timedelta(days=days)
        now = bank.now(tenant).date()
        bank.advance_clock(tenant, dt.timedelta(days=(target - now).days))
        loan = bank.loan(tenant, loan_id)
        seen.append((loan.days_past_due, loan.arrears_bucket))
    assert seen == [(1, "1-29"), (29, "1-29"), (30, "30-59"), (59, "30-59"), (60, "60-89"),
                    (89, "60-89"), (90, "90+")]  # fmt: skip
    late_fees = [i.late_fee for i in bank.loan_schedule(tenant, loan_id) if i.late_fee]
    assert late_fees == [Decimal("12.00")] * 3  # three instalments missed by day 90
    book = bank.loan_book(tenant)[0]
    assert book.active == 1 and [b.count for b in book.arrears] == [0, 0, 0, 1]
    _journals_balance(session, tenant)


def test_early_repayment_settles_with_interest_to_date(
    bank: SandboxCore, session: Session, tenant: str
) -> None:
    loan_id, account_id = _drawn(bank, tenant)
    bank.advance_clock(tenant, dt.timedelta(days=10))
    before = _row(session, account_id).booked_balance
    loan = bank.repay_early(tenant, loan_id)
    # Ten days of interest at 12.9% Actual/365 on £1,299.00: 1299 * 0.129 * 10 / 365 = 4.59.
    assert before - _row(session, account_id).booked_balance == 129900 + 459
    assert loan.status is LoanStatus.SETTLED and loan.balance == 0
    assert loan.principal_outstanding == 0 and loan.next_due_date is None
    assert all(i.status is InstalmentStatus.SETTLED for i in bank.loan_schedule(tenant, loan_id))
    assert [e.kind for e in bank.loan_events(tenant, loan_id)][-2:] == ["EarlyRepayment", "Settled"]
    with pytest.raises(LoanRefused) as again:
        bank.repay_early(tenant, loan_id)
    assert again.value.reason == "Settled"
    book = bank.loan_book(tenant)[0]
    assert (book.active, book.settled, book.outstanding) == (0, 1, Decimal("0.00"))
    _journals_balance(session, tenant)


def test_early_repayment_without_the_money_is_refused(
    bank: SandboxCore, session: Session, tenant: str
) -> None:
    loan_id, account_id = _drawn(bank, tenant)
    _drain(session, _row(session, account_id), 100)
    with pytest.raises(LoanRefused) as refused:
        bank.repay_early(tenant, loan_id)
    assert refused.value.reason == "InsufficientFunds"
    assert bank.loan(tenant, loan_id).status is LoanStatus.ACTIVE


def test_a_loan_repaid_on_schedule_is_settled(
    bank: SandboxCore, session: Session, tenant: str
) -> None:
    loan_id, _ = _drawn(bank, tenant)
    last = bank.loan_schedule(tenant, loan_id)[-1]
    bank.advance_clock(tenant, dt.timedelta(days=(last.due_date - START.date()).days))
    loan = bank.loan(tenant, loan_id)
    assert loan.status is LoanStatus.SETTLED and loan.balance == 0
    book = bank.loan_book(tenant)[0]
    assert (book.active, book.settled) == (0, 1)
    _journals_balance(session, tenant)


def test_an_unknown_loan_is_unknown(bank: SandboxCore, tenant: str) -> None:
    with pytest.raises(UnknownLoan):
        bank.loan(tenant, "loan-nope")


def test_running_due_work_twice_services_nothing_twice(
    bank: SandboxCore, session: Session, tenant: str
) -> None:
    loan_id, _ = _drawn(bank, tenant)
    first = bank.loan_schedule(tenant, loan_id)[0]
    bank.advance_clock(tenant, dt.timedelta(days=(first.due_date - START.date()).days))
    events = len(bank.loan_events(tenant, loan_id))
    row = session.get_one(Tenant, tenant)
    again = clock.run_due(session, row, bank.now(tenant))
    assert again.outcomes["loan_instalment"].executed == 0
    assert len(bank.loan_events(tenant, loan_id)) == events
