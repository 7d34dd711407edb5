"""What the sandbox's payment engine does beyond the contract's cases (which
``tests/unit/gateway/core/test_payment_contract.py`` runs on it): where the money goes, what each
side's statement says, nothing booked on a refusal, and the clock's executions recorded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.core.accounts import Account, Transaction
from gateway.core.administration import SandboxBank
from gateway.core.errors import InsufficientFunds, InvalidInstruction
from gateway.core.money import Money
from gateway.core.payments import PaymentOrder, StandingOrderInstruction
from gateway.core.values import Counterparty
from sandbox.models import Journal, Payment, Posting

SCAN = "UK.OBIE.SortCodeAccountNumber"
ACME = Counterparty("Acme Ltd", SCAN, "12345612345678")


def _account(core: SandboxBank, tenant: str, subtype: str, currency: str = "GBP") -> Account:
    for customer in core.customers(tenant):
        for account in core.accounts(tenant, customer.id):
            if account.account_subtype == subtype and account.currency == currency:
                return account
    raise AssertionError(f"no {subtype} in {currency}")


def _scan(account: Account) -> Counterparty:
    ident = next(i for i in account.identifiers if i.scheme == SCAN)
    return Counterparty(account.nickname, SCAN, ident.identification)


def _newest_booked(core: SandboxBank, tenant: str, account: Account) -> Transaction:
    """The newest booked entry (pending card holds lead a history's first page)."""
    items = core.transactions(tenant, account.id, limit=20).items
    return next(t for t in items if t.status == "Booked")


def _gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def test_a_payment_on_us_credits_the_other_account_and_one_out_leaves_through_clearing(
    core: SandboxBank, tenant: str
) -> None:
    debtor = _account(core, tenant, "CurrentAccount")
    saver = _account(core, tenant, "Savings")
    before = core.balances(tenant, debtor.id).booked.amount
    saver_before = core.balances(tenant, saver.id).booked.amount

    paid = core.pay(tenant, PaymentOrder(debtor.id, _gbp("12.34"), _scan(saver), "REF1"))

    assert (paid.status, paid.origin, paid.amount, paid.reference) == (
        "Booked", "order", _gbp("12.34"), "REF1"
    )  # fmt: skip
    booked = _newest_booked(core, tenant, debtor)
    assert (booked.booking_datetime, booked.reference) == (paid.booked_at, "REF1")
    assert core.balances(tenant, debtor.id).booked.amount == before - Decimal("12.34")
    assert core.balances(tenant, saver.id).booked.amount == saver_before + Decimal("12.34")
    credit = _newest_booked(core, tenant, saver)
    assert (credit.credit_debit, credit.reference) == ("Credit", "REF1")
    assert credit.counterparty is not None and credit.counterparty.name == debtor.nickname

    out = core.pay(tenant, PaymentOrder(debtor.id, _gbp("1.00"), ACME, "EXT"))
    assert core.balances(tenant, debtor.id).booked.amount == before - Decimal("13.34")
    debit = _newest_booked(core, tenant, debtor)
    assert debit.counterparty == ACME and debit.information == "Payment to Acme Ltd"
    assert core.payment(tenant, out.id) == out
    assert [p.id for p in core.payments(tenant, debtor.id)] == [out.id, paid.id]


@pytest.mark.parametrize(
    ("amount", "creditor", "error"),
    [
        (_gbp("0.00"), ACME, InvalidInstruction),
        (_gbp("-5.00"), ACME, InvalidInstruction),
        (_gbp("1.001"), ACME, InvalidInstruction),
        (Money(Decimal("1.00"), "EUR"), ACME, InvalidInstruction),
        (_gbp("99999999.00"), ACME, InsufficientFunds),
        (_gbp("1.00"), None, InvalidInstruction),  # the debtor account itself
    ],
)
def test_a_refused_payment_books_and_records_nothing(
    core: SandboxBank, session: Session, tenant: str, amount: Money,
    creditor: Counterparty | None, error: type[Exception],
) -> None:  # fmt: skip
    debtor = _account(core, tenant, "CurrentAccount")
    before = core.balances(tenant, debtor.id)
    newest = core.transactions(tenant, debtor.id, limit=5).items
    journals = session.scalar(select(func.count()).select_from(Journal))
    with pytest.raises(error):
        core.pay(tenant, PaymentOrder(debtor.id, amount, creditor or _scan(debtor), "X"))
    after = core.balances(tenant, debtor.id)
    assert (after.booked, after.held, after.available) == (
        before.booked, before.held, before.available
    )  # fmt: skip
    assert core.transactions(tenant, debtor.id, limit=5).items == newest
    assert session.scalar(select(func.count()).select_from(Journal)) == journals
    assert core.payments(tenant, debtor.id) == []


def test_a_payment_into_an_account_in_another_currency_is_refused(
    core: SandboxBank, tenant: str
) -> None:
    debtor = _account(core, tenant, "CurrentAccount")
    euro = _account(core, tenant, "CurrentAccount", "EUR")
    iban = next(i for i in euro.identifiers if i.scheme == "UK.OBIE.IBAN")
    creditor = Counterparty(euro.nickname, "UK.OBIE.IBAN", iban.identification)
    with pytest.raises(InvalidInstruction, match="in EUR"):
        core.pay(tenant, PaymentOrder(debtor.id, _gbp("1.00"), creditor, "X"))


def test_a_scheduled_payment_is_executed_by_the_clock_through_the_engine(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    debtor = _account(core, tenant, "CurrentAccount")
    day = core.now(tenant).date() + dt.timedelta(days=3)
    scheduled = core.schedule_payment(
        tenant, PaymentOrder(debtor.id, _gbp("2.50"), ACME, "SCH"), day
    )
    assert (scheduled.status, scheduled.execution_date) == ("Scheduled", day)
    assert scheduled in core.scheduled_payments(tenant, debtor.id)

    core.advance_clock(tenant, dt.timedelta(days=4))

    executed = next(p for p in core.payments(tenant, debtor.id) if p.instruction_id == scheduled.id)
    assert (executed.status, executed.origin, executed.amount) == (
        "Booked", "scheduled_payment", _gbp("2.50")
    )  # fmt: skip
    assert executed.booked_at is not None and executed.booked_at.date() == day
    row = next(s for s in core.scheduled_payments(tenant, debtor.id) if s.id == scheduled.id)
    assert row.status == "Executed"
    with pytest.raises(InvalidInstruction, match="Executed"):
        core.cancel_scheduled_payment(tenant, scheduled.id)


def test_a_refused_standing_order_occurrence_is_recorded_with_its_reason(
    core: SandboxBank, session: Session, tenant: str
) -> None:
    debtor = _account(core, tenant, "CurrentAccount")
    balances = core.balances(tenant, debtor.id)
    too_much = balances.available.amount + balances.credit_line.amount + Decimal("1000")
    first = core.now(tenant).date() + dt.timedelta(days=1)
    order = core.create_standing_order(
        tenant,
        StandingOrderInstruction(
            PaymentOrder(debtor.id, _gbp(f"{too_much:f}"), ACME, "BIG"), "MNTH", first
        ),
    )
    run = core.advance_clock(tenant, dt.timedelta(days=2))
    assert run.rejected.get("standing_order", 0) >= 1
    refused = [p for p in core.payments(tenant, debtor.id) if p.instruction_id == order.id]
    assert [(p.status, p.booked_at) for p in refused] == [("Rejected", None)]
    assert refused[0].status_reason
    postings = session.scalars(select(Payment.journal_pk).where(Payment.public_id == refused[0].id))
    assert list(postings) == [None]
    # The schedule moved on: the next occurrence is a month later.
    (current,) = [s for s in core.standing_orders(tenant, debtor.id) if s.id == order.id]
    assert current.next_payment_date is not None and current.next_payment_date > first
    assert session.scalar(select(func.count()).select_from(Posting)) is not None
