"""The loan contract: an accepted offer drawn down as a loan, and the loan afterwards.

:meth:`LoansCore.draw_down` opens a loan account (AIS ``AccountSubType`` ``Loan``, OBIE
``OBExternalAccountSubType1Code``) for the customer who owns the account the loan is paid into,
and books one balanced journal: the loan account is debited with the principal, the customer's
account credited with the amount of credit, and the arrangement fee goes to the bank's fee
income (added to the loan or deducted from the payout, as the product says).

Servicing runs on the tenant's clock: on each due date the instalment's interest is charged
to the loan and the instalment collected from the repayment account; short funds leave the
loan in arrears (days past due in the buckets of :data:`BUCKETS`), charge the product's late
fee once per missed instalment and are retried every later day, collecting what is there.
:meth:`LoansCore.repay_early` settles the loan with interest to date. Every change is a
:class:`LoanEvent`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from gateway.core.errors import InvalidInstruction, UnknownResource
from gateway.core.lending import QuoteRequest

# Days-past-due buckets (first day, last day or None), as a loan book reports arrears.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-29", 1, 29),
    ("30-59", 30, 59),
    ("60-89", 60, 89),
    ("90+", 90, None),
)


def bucket(days_past_due: int) -> str | None:
    """The arrears bucket of ``days_past_due`` (``None``: not in arrears)."""
    for name, first, last in BUCKETS:
        if days_past_due >= first and (last is None or days_past_due <= last):
            return name
    return None


class LoanStatus(StrEnum):
    """Where a loan stands: being repaid, or settled (nothing owed)."""

    ACTIVE = "Active"
    SETTLED = "Settled"


class InstalmentStatus(StrEnum):
    """An instalment: not yet due, due and partly or wholly unpaid, or paid."""

    SCHEDULED = "Scheduled"
    OVERDUE = "Overdue"
    PAID = "Paid"
    SETTLED = "SettledEarly"


@dataclass(frozen=True, slots=True)
class DrawdownRequest:
    """Draw down ``loan`` (priced again on the bank's today) into ``account_id``, the customer's
    account it is paid into and repaid from; ``reference`` names the application."""

    loan: QuoteRequest
    account_id: str
    reference: str


@dataclass(frozen=True, slots=True)
class Loan:
    """A loan as it stands. ``balance`` is everything owed now (principal, interest charged,
    late fees), ``arrears`` what is overdue (late fees included); amounts in ``currency``."""

    loan_id: str
    account_id: str
    repayment_account_id: str
    product_id: str
    reference: str
    currency: str
    status: LoanStatus
    amount: Decimal
    principal: Decimal
    credit: Decimal
    arrangement_fee: Decimal
    rate: Decimal
    term: int
    opened_at: dt.datetime
    settled_at: dt.datetime | None
    balance: Decimal
    principal_outstanding: Decimal
    arrears: Decimal
    fees_outstanding: Decimal
    days_past_due: int
    arrears_bucket: str | None
    next_due_date: dt.date | None


@dataclass(frozen=True, slots=True)
class LoanInstalment:
    """One instalment of a loan's schedule, with what has been paid of it."""

    number: int
    due_date: dt.date
    amount: Decimal
    principal: Decimal
    interest: Decimal
    paid: Decimal
    late_fee: Decimal
    status: InstalmentStatus


@dataclass(frozen=True, slots=True)
class LoanEvent:
    """One change of a loan: ``kind`` (``Drawdown``, ``InstalmentDue``, ``Collected``,
    ``PartlyCollected``, ``CollectionFailed``, ``LateFeeCharged``, ``ArrearsChanged``,
    ``EarlyRepayment``, ``Settled``), when, the amount it moved and the loan's days past due."""

    event_id: str
    kind: str
    occurred_at: dt.datetime
    amount: Decimal | None
    days_past_due: int
    information: str


@dataclass(frozen=True, slots=True)
class BucketTotal:
    """Loans in one arrears bucket: how many and what they have overdue."""

    bucket: str
    count: int
    arrears: Decimal


@dataclass(frozen=True, slots=True)
class LoanBook:
    """The loan book of one currency: loans by status, what is owed, arrears by bucket."""

    currency: str
    active: int
    settled: int
    outstanding: Decimal
    arrears: tuple[BucketTotal, ...]


class UnknownLoan(UnknownResource):
    """No loan has this id."""


class LoanRefused(InvalidInstruction):
    """The bank refuses a loan operation; ``reason`` is ``InsufficientFunds``, ``Settled``,
    ``Account`` (not the customer's, not in the loan's currency) or ``Terms``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class LoansCore(Protocol):
    """The bank's loans, bound to one unit of work."""

    def draw_down(self, tenant: str, request: DrawdownRequest) -> Loan:
        """Open the loan and pay it out (see the module); :class:`LoanRefused` or
        :class:`gateway.core.lending.QuoteRefused` when it cannot, and nothing is written."""

    def loan(self, tenant: str, loan_id: str) -> Loan:
        """The loan now; :class:`UnknownLoan` if there is none."""

    def loan_schedule(self, tenant: str, loan_id: str) -> Sequence[LoanInstalment]:
        """The loan's instalments, in order, with what was paid of each."""

    def loan_events(self, tenant: str, loan_id: str) -> Sequence[LoanEvent]:
        """Every change of the loan, oldest first."""

    def repay_early(self, tenant: str, loan_id: str) -> Loan:
        """Settle the loan now from its repayment account: everything owed plus interest from
        the last due date to today; :class:`LoanRefused` (``InsufficientFunds``, ``Settled``)."""

    def loan_book(self, tenant: str | None) -> Sequence[LoanBook]:
        """The loan book of ``tenant`` (every tenant when ``None``), one per currency."""
