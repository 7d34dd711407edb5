"""The sandbox bank's side of the loan contract (:class:`gateway.core.loans.LoansCore`):
drawdown onto a loan account, reads of a loan, early repayment and the loan book. Servicing on
the clock is :mod:`sandbox.loan_servicing`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select

from gateway.core import loan_quotes
from gateway.core.errors import InsufficientFunds
from gateway.core.lending import Quote
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
    bucket,
)
from gateway.core.money import from_minor, to_minor
from sandbox import catalogue as cat
from sandbox import ledger
from sandbox import loan_models as lm
from sandbox import loan_servicing as servicing
from sandbox import models as m
from sandbox.binding import Binding
from sandbox.ids import public_id
from sandbox.ledger import Detail, Leg
from sandbox.loan_products import find

# The account product each loan product opens (sandbox.catalogue.PRODUCTS).
ACCOUNT_PRODUCTS = {
    "personal-loan": "LOAN-PERSONAL",
    "sme-term-loan": "SME-LOAN",
    "revolving-credit-line": "LOAN-CREDIT-LINE",
}


def _decimal(minor: int, currency: str) -> Decimal:
    return from_minor(minor, currency).amount


class SandboxLoans(Binding):
    """Loans of the sandbox bank."""

    def draw_down(self, tenant: str, request: DrawdownRequest) -> Loan:
        """Open the loan account and pay the loan out in one balanced journal."""
        account, owner = self._account_row(tenant, request.account_id)
        product = find(request.loan.product_id)
        if account.currency != product.currency or account.account_subtype in (
            "Loan",
            "CreditCard",
        ):
            raise LoanRefused("Account", f"a loan cannot be paid into {account.public_id}")
        now = self.now(tenant)
        quote = loan_quotes.price(product, request.loan, now.date())
        loan_account = self._loan_account(tenant, account, owner, quote, request.reference, now)
        loan = self._loan_row(tenant, loan_account, account, quote, request.reference, now)
        self._pay_out(loan, account, quote, now)
        servicing.record(self.session, loan, "Drawdown", now,
                         f"Paid {quote.credit} {quote.currency} into {account.public_id}",
                         loan.credit)  # fmt: skip
        self.session.flush()
        return self._loan(loan)

    def _loan_account(self, tenant: str, paid_into: m.Account, owner: m.Customer, quote: Quote,
                      reference: str, now: dt.datetime) -> m.Account:  # fmt: skip
        ccy = quote.currency
        # The facility the loan account may carry: principal, its interest and a late fee for
        # every instalment (the ledger's limit on the account, never reached by repayments).
        facility = quote.principal + quote.total_interest + quote.product.late_fee * quote.term
        ident = public_id("acc-", tenant, "loan", reference)
        loan_account = m.Account(
            tenant_id=tenant, public_id=ident, customer_pk=owner.pk, internal_code=None,
            currency=ccy, account_type=paid_into.account_type, account_subtype="Loan",
            product_code=ACCOUNT_PRODUCTS[quote.product.product_id],
            nickname=quote.product.name[:70], opening_date=now.date(), status="Enabled",
            sort_code=paid_into.sort_code, account_number=f"{int(ident[4:], 16) % 10**8:08d}",
            credit_limit=to_minor(facility, ccy), booked_balance=0, held_amount=0,
        )  # fmt: skip
        self.session.add(loan_account)
        self.session.flush()
        return loan_account

    def _loan_row(self, tenant: str, loan_account: m.Account, paid_into: m.Account,
                  quote: Quote, reference: str, now: dt.datetime) -> lm.Loan:  # fmt: skip
        ccy = quote.currency
        loan = lm.Loan(
            tenant_id=tenant, public_id=public_id("loan-", tenant, reference),
            account_pk=loan_account.pk, repayment_account_pk=paid_into.pk,
            product_id=quote.product.product_id, reference=reference, currency=ccy,
            amount=to_minor(quote.amount, ccy), principal=to_minor(quote.principal, ccy),
            credit=to_minor(quote.credit, ccy),
            arrangement_fee=to_minor(quote.arrangement_fee, ccy),
            late_fee=to_minor(quote.product.late_fee, ccy), rate=f"{quote.band.rate:f}",
            day_count=quote.product.day_count.value, term=quote.term,
            status=LoanStatus.ACTIVE.value, fees_due=0, opened_at=now,
        )  # fmt: skip
        self.session.add(loan)
        self.session.flush()
        self.session.add_all(
            lm.LoanInstalment(
                loan_pk=loan.pk,
                number=i.number,
                due_date=i.due_date,
                amount=to_minor(i.amount, ccy),
                principal=to_minor(i.principal, ccy),
                interest=to_minor(i.interest, ccy),
                paid=0,
                late_fee=0,
                due=False,
                settled_early=False,
            )
            for i in quote.instalments
        )
        return loan

    def _pay_out(self, loan: lm.Loan, paid_into: m.Account, quote: Quote, now: dt.datetime) -> None:
        """Loan account debited with the principal, the customer credited with the credit, the
        arrangement fee (the difference, however the product treats it) to fee income."""
        detail = Detail(information=f"Loan drawdown {loan.public_id}", btc=cat.LOAN_DRAWDOWN,
                        reference=loan.public_id[:35], proprietary_code="LoanDrawdown")  # fmt: skip
        legs = [Leg(loan.account_pk, -loan.principal, loan.currency, detail),
                Leg(paid_into.pk, loan.credit, loan.currency, detail)]  # fmt: skip
        if loan.arrangement_fee:
            income = ledger.internal_account(
                self.session, loan.tenant_id, servicing.FEE_INCOME, loan.currency
            )
            fee = Detail(information=f"Arrangement fee {loan.public_id}", btc=cat.FEES)
            legs.append(Leg(income.pk, loan.arrangement_fee, loan.currency, fee))
        ledger.post(self.session, tenant_id=loan.tenant_id, kind="loan-drawdown", legs=legs,
                    booked_at=now)  # fmt: skip

    # Reads ------------------------------------------------------------------------------------

    def _row(self, tenant: str, loan_id: str) -> lm.Loan:
        self._offset(tenant)
        loan = self.session.scalar(
            select(lm.Loan).where(lm.Loan.tenant_id == tenant, lm.Loan.public_id == loan_id)
        )
        if loan is None:
            raise UnknownLoan(f"no loan {loan_id}")
        return loan

    def _loan(self, loan: lm.Loan) -> Loan:
        rows = servicing.instalments(self.session, loan)
        account = self.session.get_one(m.Account, loan.account_pk)
        repayment = self.session.get_one(m.Account, loan.repayment_account_pk)
        ccy, today = loan.currency, self.now(loan.tenant_id).date()
        dpd = servicing.days_past_due(rows, today)
        upcoming = [i.due_date for i in rows if not i.due]
        return Loan(
            loan_id=loan.public_id, account_id=account.public_id,
            repayment_account_id=repayment.public_id, product_id=loan.product_id,
            reference=loan.reference, currency=ccy, status=LoanStatus(loan.status),
            amount=_decimal(loan.amount, ccy), principal=_decimal(loan.principal, ccy),
            credit=_decimal(loan.credit, ccy),
            arrangement_fee=_decimal(loan.arrangement_fee, ccy), rate=Decimal(loan.rate),
            term=loan.term, opened_at=loan.opened_at, settled_at=loan.settled_at,
            balance=_decimal(-account.booked_balance, ccy),
            principal_outstanding=_decimal(servicing.principal_outstanding(loan, rows), ccy),
            arrears=_decimal(servicing.overdue(rows) + loan.fees_due, ccy),
            fees_outstanding=_decimal(loan.fees_due, ccy), days_past_due=dpd,
            arrears_bucket=bucket(dpd),
            next_due_date=upcoming[0] if upcoming and loan.status == "Active" else None,
        )  # fmt: skip

    def loan(self, tenant: str, loan_id: str) -> Loan:
        """The loan now."""
        return self._loan(self._row(tenant, loan_id))

    def loan_schedule(self, tenant: str, loan_id: str) -> Sequence[LoanInstalment]:
        """The loan's instalments with what was paid of each."""
        loan = self._row(tenant, loan_id)
        ccy = loan.currency
        return [
            LoanInstalment(
                number=i.number,
                due_date=i.due_date,
                amount=_decimal(i.amount, ccy),
                principal=_decimal(i.principal, ccy),
                interest=_decimal(i.interest, ccy),
                paid=_decimal(i.paid, ccy),
                late_fee=_decimal(i.late_fee, ccy),
                status=_status(i),
            )
            for i in servicing.instalments(self.session, loan)
        ]

    def loan_events(self, tenant: str, loan_id: str) -> Sequence[LoanEvent]:
        """Every change of the loan, oldest first."""
        loan = self._row(tenant, loan_id)
        query = select(lm.LoanEvent).where(lm.LoanEvent.loan_pk == loan.pk)
        return [
            LoanEvent(
                event_id=public_id("lev-", loan.public_id, e.pk),
                kind=e.kind,
                occurred_at=e.occurred_at,
                amount=None if e.amount is None else _decimal(e.amount, loan.currency),
                days_past_due=e.days_past_due,
                information=e.information,
            )
            for e in self.session.scalars(query.order_by(lm.LoanEvent.pk))
        ]

    def repay_early(self, tenant: str, loan_id: str) -> Loan:
        """Settle the loan with interest to date (see the contract)."""
        loan = self._row(tenant, loan_id)
        if loan.status != LoanStatus.ACTIVE:
            raise LoanRefused("Settled", f"loan {loan_id} is settled")
        now = self.now(tenant)
        rows = servicing.instalments(self.session, loan)
        account = self.session.get_one(m.Account, loan.account_pk)
        accrued = servicing.accrued_interest(loan, rows, now.date())
        owed = -account.booked_balance
        detail = servicing.repayment(loan, "Early repayment")
        legs = [Leg(loan.repayment_account_pk, -(owed + accrued), loan.currency, detail),
                Leg(loan.account_pk, owed, loan.currency, detail)]  # fmt: skip
        if accrued:
            income = ledger.internal_account(
                self.session, tenant, servicing.INTEREST_INCOME, loan.currency
            )
            legs.append(Leg(income.pk, accrued, loan.currency, detail))
        try:
            ledger.post(self.session, tenant_id=tenant, kind="loan-early-repayment", legs=legs,
                        booked_at=now)  # fmt: skip
        except InsufficientFunds:
            raise LoanRefused("InsufficientFunds", "not enough money to settle the loan") from None
        for i in rows:
            if i.due:
                i.paid = i.amount
            else:
                i.settled_early = True
        loan.fees_due, loan.arrears_bucket = 0, None
        loan.status, loan.settled_at = LoanStatus.SETTLED.value, now
        servicing.record(self.session, loan, "EarlyRepayment", now,
                         f"Settled with interest to date {accrued}", owed + accrued)  # fmt: skip
        servicing.record(self.session, loan, "Settled", now, "Loan repaid early")
        self.session.flush()
        return self._loan(loan)

    def loan_book(self, tenant: str | None) -> Sequence[LoanBook]:
        """The loan book by currency: counts, what is owed, arrears by bucket."""
        query = select(lm.Loan, m.Account.booked_balance).join(
            m.Account, m.Account.pk == lm.Loan.account_pk
        )
        if tenant is not None:
            self._offset(tenant)
            query = query.where(lm.Loan.tenant_id == tenant)
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for loan, balance in self.session.execute(query.order_by(lm.Loan.pk)).all():
            tally = counts[loan.currency]
            tally[loan.status] += 1
            if loan.status != LoanStatus.ACTIVE:
                continue
            tally["outstanding"] -= balance
            rows = servicing.instalments(self.session, loan)
            today = self.now(loan.tenant_id).date()
            name = bucket(servicing.days_past_due(rows, today))
            if name is not None:
                tally[f"n:{name}"] += 1
                tally[f"a:{name}"] += servicing.overdue(rows) + loan.fees_due
        return [_book(ccy, tally) for ccy, tally in sorted(counts.items())]


def _book(currency: str, tally: dict[str, int]) -> LoanBook:
    return LoanBook(
        currency=currency,
        active=tally[LoanStatus.ACTIVE.value],
        settled=tally[LoanStatus.SETTLED.value],
        outstanding=_decimal(tally["outstanding"], currency),
        arrears=tuple(
            BucketTotal(name, tally[f"n:{name}"], _decimal(tally[f"a:{name}"], currency))
            for name, _first, _last in BUCKETS
        ),
    )


def _status(i: lm.LoanInstalment) -> InstalmentStatus:
    if i.settled_early:
        return InstalmentStatus.SETTLED
    if i.due and i.paid >= i.amount:
        return InstalmentStatus.PAID
    return InstalmentStatus.OVERDUE if i.due else InstalmentStatus.SCHEDULED
