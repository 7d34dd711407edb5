"""An in-memory loans double (:class:`gateway.core.loans.LoansCore`) for service tests: loans
drawn down on a clock the test sets, into accounts it names, with no ledger behind them.

It keeps the contract's arithmetic (the quote priced on the clock's day, the principal owed,
interest to date on early repayment, the loan book) but services nothing: instalments do not
fall due here (the sandbox's clock does that, :mod:`sandbox.loan_servicing`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from gateway.core import loan_quotes
from gateway.core.lending import LoanProduct, UnknownProduct
from gateway.core.loan_schedule import round_minor, year_fraction
from gateway.core.loans import (
    BUCKETS,
    BucketTotal,
    DrawdownRequest,
    InstalmentStatus,
    Loan,
    LoanBook,
    LoanEvent,
    LoanInstalment,
    LoanRefused,
    LoanStatus,
    UnknownLoan,
)
from gateway.core.money import exponent


@dataclass
class MemoryLoans:
    """Loans of ``products`` on ``clock``, paid into any of ``accounts`` (id: currency)."""

    products: Sequence[LoanProduct]
    clock: dt.datetime
    accounts: dict[str, str]
    loans: dict[str, Loan] = field(default_factory=dict)
    schedules: dict[str, list[LoanInstalment]] = field(default_factory=dict)
    events: dict[str, list[LoanEvent]] = field(default_factory=dict)

    def _product(self, product_id: str) -> LoanProduct:
        for product in self.products:
            if product.product_id == product_id:
                return product
        raise UnknownProduct(f"No loan product {product_id!r}")

    def draw_down(self, tenant: str, request: DrawdownRequest) -> Loan:
        """Open the loan as of the clock's day."""
        product = self._product(request.loan.product_id)
        if self.accounts.get(request.account_id) != product.currency:
            raise LoanRefused("Account", f"a loan cannot be paid into {request.account_id}")
        quote = loan_quotes.price(product, request.loan, self.clock.date())
        loan_id = "loan-" + hashlib.blake2b(request.reference.encode(), digest_size=12).hexdigest()
        if loan_id in self.loans:
            raise LoanRefused("Terms", f"{request.reference} was drawn down already")
        zero = Decimal(0).quantize(Decimal(1).scaleb(-exponent(quote.currency)))
        self.loans[loan_id] = Loan(
            loan_id=loan_id, account_id=f"acc-{loan_id}", repayment_account_id=request.account_id,
            product_id=product.product_id, reference=request.reference, currency=quote.currency,
            status=LoanStatus.ACTIVE, amount=quote.amount, principal=quote.principal,
            credit=quote.credit, arrangement_fee=quote.arrangement_fee, rate=quote.band.rate,
            term=quote.term, opened_at=self.clock, settled_at=None, balance=quote.principal,
            principal_outstanding=quote.principal, arrears=zero, fees_outstanding=zero,
            days_past_due=0, arrears_bucket=None, next_due_date=quote.instalments[0].due_date,
        )  # fmt: skip
        self.schedules[loan_id] = [
            LoanInstalment(
                i.number,
                i.due_date,
                i.amount,
                i.principal,
                i.interest,
                zero,
                zero,
                InstalmentStatus.SCHEDULED,
            )
            for i in quote.instalments
        ]
        self._event(loan_id, "Drawdown", quote.credit)
        return self.loans[loan_id]

    def _event(self, loan_id: str, kind: str, amount: Decimal | None) -> None:
        happened = self.events.setdefault(loan_id, [])
        happened.append(LoanEvent(f"lev-{len(happened) + 1}", kind, self.clock, amount, 0, kind))

    def loan(self, tenant: str, loan_id: str) -> Loan:
        """The loan; :class:`UnknownLoan` if there is none."""
        try:
            return self.loans[loan_id]
        except KeyError:
            raise UnknownLoan(f"no loan {loan_id}") from None

    def loan_schedule(self, tenant: str, loan_id: str) -> Sequence[LoanInstalment]:
        """The loan's instalments."""
        self.loan(tenant, loan_id)
        return tuple(self.schedules[loan_id])

    def loan_events(self, tenant: str, loan_id: str) -> Sequence[LoanEvent]:
        """The loan's events, oldest first."""
        self.loan(tenant, loan_id)
        return tuple(self.events[loan_id])

    def repay_early(self, tenant: str, loan_id: str) -> Loan:
        """Settle the loan: its balance and interest from the drawdown to the clock's day."""
        loan = self.loan(tenant, loan_id)
        if loan.status is not LoanStatus.ACTIVE:
            raise LoanRefused("Settled", f"loan {loan_id} is settled")
        product = self._product(loan.product_id)
        fraction = year_fraction(loan.opened_at.date(), self.clock.date(), product.day_count)
        accrued = round_minor(loan.principal_outstanding * fraction * loan.rate / 100,
                              exponent(loan.currency))  # fmt: skip
        zero = loan.arrears
        settled = replace(loan, status=LoanStatus.SETTLED, settled_at=self.clock, balance=zero,
                          principal_outstanding=zero, next_due_date=None)  # fmt: skip
        self.loans[loan_id] = settled
        self.schedules[loan_id] = [replace(i, status=InstalmentStatus.SETTLED)
                                   for i in self.schedules[loan_id]]  # fmt: skip
        self._event(loan_id, "EarlyRepayment", loan.balance + accrued)
        self._event(loan_id, "Settled", None)
        return settled

    def loan_book(self, tenant: str | None) -> Sequence[LoanBook]:
        """The book by currency (no arrears: nothing falls due here)."""
        books = []
        for currency in sorted({loan.currency for loan in self.loans.values()}):
            mine = [loan for loan in self.loans.values() if loan.currency == currency]
            zero = mine[0].arrears
            active = [loan for loan in mine if loan.status is LoanStatus.ACTIVE]
            books.append(LoanBook(
                currency=currency, active=len(active), settled=len(mine) - len(active),
                outstanding=sum((loan.balance for loan in active), zero),
                arrears=tuple(BucketTotal(name, 0, zero) for name, _first, _last in BUCKETS),
            ))  # fmt: skip
        return books
