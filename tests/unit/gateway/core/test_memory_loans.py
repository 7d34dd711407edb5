"""The in-memory loans double keeps the loan contract: drawdown priced on its clock, refusals,
early repayment with interest to date, the loan book."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gateway.core.lending import QuoteRefused, QuoteRequest
from gateway.core.loans import (
    DrawdownRequest,
    InstalmentStatus,
    LoanRefused,
    LoanStatus,
    UnknownLoan,
    bucket,
)
from gateway.core.memory_loans import MemoryLoans
from sandbox.loan_products import PRODUCTS

CLOCK = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LOAN = QuoteRequest("personal-loan", Decimal("1200.00"), "GBP", 12)


def _bank() -> MemoryLoans:
    return MemoryLoans(PRODUCTS, CLOCK, {"acc-gbp": "GBP", "acc-eur": "EUR"})


def test_a_drawdown_opens_the_loan_priced_on_the_clocks_day() -> None:
    bank = _bank()
    loan = bank.draw_down("t", DrawdownRequest(LOAN, "acc-gbp", "fin-1"))
    assert (loan.principal, loan.credit, loan.balance) == (
        Decimal("1299.00"), Decimal("1200.00"), Decimal("1299.00"))  # fmt: skip
    schedule = bank.loan_schedule("t", loan.loan_id)
    assert len(schedule) == 12 and schedule[0].status is InstalmentStatus.SCHEDULED
    assert sum(i.principal for i in schedule) == loan.principal
    with pytest.raises(LoanRefused):
        bank.draw_down("t", DrawdownRequest(LOAN, "acc-gbp", "fin-1"))


def test_what_the_double_refuses() -> None:
    bank = _bank()
    with pytest.raises(LoanRefused) as refused:
        bank.draw_down("t", DrawdownRequest(LOAN, "acc-eur", "fin-2"))
    assert refused.value.reason == "Account"
    with pytest.raises(QuoteRefused):
        tiny = QuoteRequest("personal-loan", Decimal("1.00"), "GBP", 12)
        bank.draw_down("t", DrawdownRequest(tiny, "acc-gbp", "fin-3"))
    with pytest.raises(UnknownLoan):
        bank.loan("t", "loan-none")
    assert bank.loans == {}


def test_early_repayment_charges_interest_to_date() -> None:
    bank = _bank()
    loan = bank.draw_down("t", DrawdownRequest(LOAN, "acc-gbp", "fin-4"))
    bank.clock = CLOCK + dt.timedelta(days=10)
    settled = bank.repay_early("t", loan.loan_id)
    assert settled.status is LoanStatus.SETTLED and settled.balance == 0
    # 1299.00 * 12.9% * 10/365 = 4.59
    assert bank.loan_events("t", loan.loan_id)[-2].amount == Decimal("1303.59")
    with pytest.raises(LoanRefused):
        bank.repay_early("t", loan.loan_id)
    [book] = bank.loan_book(None)
    assert (book.active, book.settled, book.outstanding) == (0, 1, Decimal("0.00"))


@pytest.mark.parametrize(
    ("days", "expected"),
    [(0, None), (1, "1-29"), (29, "1-29"), (30, "30-59"), (59, "30-59"), (60, "60-89"),
     (89, "60-89"), (90, "90+"), (400, "90+")],
)  # fmt: skip
def test_days_past_due_buckets(days: int, expected: str | None) -> None:
    assert bucket(days) == expected
