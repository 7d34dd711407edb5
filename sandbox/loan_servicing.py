"""Servicing the sandbox bank's loans on the tenant's clock: instalments fall due, are
collected from the repayment account, and short funds leave the loan in arrears.

On each due date (in order, however far the clock jumped) the instalment's interest is charged
to the loan account and everything overdue is collected from the repayment account, as much as
its funds allow (its balance less holds plus its arranged limit, the ledger's rule): a partial
collection is taken, the rest stays in arrears. An instalment left unpaid after its due date's
collection is charged the product's late fee, once. While anything is overdue, collection is
retried on every later day the clock runs. Money collected pays the oldest instalment first
(its interest, then its principal), then late fees. Days past due count from the oldest
instalment not fully paid; its bucket is :func:`gateway.core.loans.bucket`. Every change is a
:class:`sandbox.loan_models.LoanEvent`; every posting is one balanced journal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.core.errors import BankCoreError
from gateway.core.lending import DayCount
from gateway.core.loan_schedule import round_minor, year_fraction
from gateway.core.loans import LoanStatus, bucket
from gateway.core.payments import BOOKING_TIME
from sandbox import catalogue as cat
from sandbox import clock, ledger
from sandbox.ledger import Detail, Leg
from sandbox.loan_models import Loan, LoanEvent, LoanInstalment
from sandbox.models import Account, Tenant

INTEREST_INCOME = "loan-interest"
FEE_INCOME = "loan-fees"


def booking_time(day: dt.date, at: dt.datetime) -> dt.datetime:
    """When work due on ``day`` is booked: the bank's booking hour, or ``at`` if earlier."""
    return min(dt.datetime.combine(day, BOOKING_TIME, dt.UTC), at)


def instalments(session: Session, loan: Loan) -> list[LoanInstalment]:
    """The loan's instalments, in order."""
    query = select(LoanInstalment).where(LoanInstalment.loan_pk == loan.pk)
    return list(session.scalars(query.order_by(LoanInstalment.number)))


def record(
    session: Session, loan: Loan, kind: str, at: dt.datetime, information: str,
    amount: int | None = None, days_past_due: int = 0,
) -> None:  # fmt: skip
    """Add one event of the loan."""
    session.add(LoanEvent(loan_pk=loan.pk, kind=kind, occurred_at=at, amount=amount,
                          days_past_due=days_past_due, information=information[:140]))  # fmt: skip


def overdue(rows: Sequence[LoanInstalment]) -> int:
    """What is due and unpaid of the instalments (late fees apart)."""
    return sum(i.amount - i.paid for i in rows if i.due and not i.settled_early)


def days_past_due(rows: Sequence[LoanInstalment], today: dt.date) -> int:
    """Days since the due date of the oldest instalment not fully paid (0: none)."""
    for i in rows:
        if i.due and not i.settled_early and i.paid < i.amount:
            return max(0, (today - i.due_date).days)
    return 0


def principal_outstanding(loan: Loan, rows: Sequence[LoanInstalment]) -> int:
    """The principal not yet repaid: each payment pays its instalment's interest first."""
    if loan.status == LoanStatus.SETTLED:
        return 0
    repaid = sum(min(max(i.paid - i.interest, 0), i.principal) for i in rows)
    return loan.principal - repaid


def charge(session: Session, loan: Loan, code: str, amount: int, at: dt.datetime,
           information: str) -> None:  # fmt: skip
    """Debit the loan account with interest or a fee, credited to the bank's income."""
    income = ledger.internal_account(session, loan.tenant_id, code, loan.currency)
    btc = cat.INTEREST if code == INTEREST_INCOME else cat.FEES
    detail = Detail(information=information, btc=btc, reference=loan.public_id[:35])
    ledger.post(session, tenant_id=loan.tenant_id, kind=code, booked_at=at, legs=[
        Leg(loan.account_pk, -amount, loan.currency, detail),
        Leg(income.pk, amount, loan.currency, detail),
    ])  # fmt: skip


def _allocate(loan: Loan, rows: Sequence[LoanInstalment], amount: int) -> None:
    """Pay ``amount`` to the oldest due instalments first, then to late fees."""
    for i in rows:
        if amount == 0:
            return
        if i.due and not i.settled_early and i.paid < i.amount:
            part = min(amount, i.amount - i.paid)
            i.paid += part
            amount -= part
    loan.fees_due -= amount


def repayment(loan: Loan, information: str) -> Detail:
    """What the customer sees of a repayment of the loan."""
    return Detail(information=f"{information} {loan.public_id}", btc=cat.LOAN_REPAYMENT,
                  reference=loan.public_id[:35], proprietary_code="LoanRepayment")  # fmt: skip


def _available(session: Session, loan: Loan) -> int:
    account = session.get_one(Account, loan.repayment_account_pk)
    session.refresh(account)
    return max(0, account.booked_balance - account.held_amount + account.credit_limit)


def collect(session: Session, loan: Loan, rows: Sequence[LoanInstalment], at: dt.datetime) -> int:
    """Collect what is overdue from the repayment account, as much as its funds allow; return
    what was collected."""
    owed = overdue(rows) + loan.fees_due
    if owed <= 0:
        return 0
    loan.collected_on = at.date()
    take = min(owed, _available(session, loan))
    dpd = days_past_due(rows, at.date())
    if take > 0:
        detail = repayment(loan, "Loan repayment")
        try:
            ledger.post(session, tenant_id=loan.tenant_id, kind="loan-repayment", booked_at=at,
                        legs=[Leg(loan.repayment_account_pk, -take, loan.currency, detail),
                              Leg(loan.account_pk, take, loan.currency, detail)])  # fmt: skip
        except BankCoreError as refused:
            record(session, loan, "CollectionFailed", at, str(refused), owed, dpd)
            return 0
        _allocate(loan, rows, take)
        kind = "Collected" if take == owed else "PartlyCollected"
        record(session, loan, kind, at, f"Collected {take} of {owed}", take, dpd)
        return take
    record(session, loan, "CollectionFailed", at, "Insufficient funds", owed, dpd)
    return 0


def _fall_due(session: Session, loan: Loan, rows: Sequence[LoanInstalment],
              i: LoanInstalment, at: dt.datetime) -> None:  # fmt: skip
    """An instalment's due date: charge its interest, collect, charge a late fee if unpaid."""
    if i.interest > 0:
        charge(session, loan, INTEREST_INCOME, i.interest, at, f"Interest, instalment {i.number}")
    i.due = True
    record(session, loan, "InstalmentDue", at, f"Instalment {i.number} due", i.amount)
    collect(session, loan, rows, at)
    if i.paid < i.amount and loan.late_fee > 0:
        charge(session, loan, FEE_INCOME, loan.late_fee, at, f"Late fee, instalment {i.number}")
        i.late_fee = loan.late_fee
        loan.fees_due += loan.late_fee
        record(session, loan, "LateFeeCharged", at, f"Late fee, instalment {i.number}",
               loan.late_fee, days_past_due(rows, at.date()))  # fmt: skip


def settle_if_repaid(session: Session, loan: Loan, rows: Sequence[LoanInstalment],
                     at: dt.datetime) -> None:  # fmt: skip
    """Close the loan once every instalment and fee is paid."""
    if all(i.due and i.paid == i.amount for i in rows) and loan.fees_due == 0:
        loan.status = LoanStatus.SETTLED
        loan.settled_at = at
        record(session, loan, "Settled", at, "Loan repaid in full")


def service(session: Session, loan: Loan, at: dt.datetime) -> bool:
    """Run the loan's due work up to ``at`` (see the module); whether there was any."""
    rows = instalments(session, loan)
    worked = False
    for i in rows:
        if not i.due and i.due_date <= at.date():
            _fall_due(session, loan, rows, i, booking_time(i.due_date, at))
            worked = True
    if overdue(rows) + loan.fees_due > 0 and (loan.collected_on or dt.date.min) < at.date():
        collect(session, loan, rows, at)
        worked = True
    dpd = days_past_due(rows, at.date())
    now_bucket = bucket(dpd)
    if now_bucket != loan.arrears_bucket:
        shown = now_bucket or "none"
        record(session, loan, "ArrearsChanged", at, f"Arrears bucket {shown}", None, dpd)
        loan.arrears_bucket = now_bucket
        worked = True
    if worked:
        settle_if_repaid(session, loan, rows, at)
    return worked


@clock.due_processor("loan_instalment")
def loan_instalments(session: Session, tenant: Tenant, at: dt.datetime) -> clock.Outcome:
    """Service every active loan of the tenant up to ``at`` (``executed``: the loans that had
    due work)."""
    outcome = clock.Outcome()
    query = select(Loan).where(Loan.tenant_id == tenant.id, Loan.status == LoanStatus.ACTIVE)
    for loan in session.scalars(query.order_by(Loan.pk)).all():
        outcome.executed += int(service(session, loan, at))
    session.flush()
    return outcome


def accrued_interest(loan: Loan, rows: Sequence[LoanInstalment], today: dt.date) -> int:
    """Interest on the principal outstanding from the last due date (or the drawdown) to
    ``today``, at the loan's rate and day count, in minor units."""
    last = max((i.due_date for i in rows if i.due), default=loan.opened_at.date())
    if today <= last:
        return 0
    fraction = year_fraction(last, today, DayCount(loan.day_count))
    interest = principal_outstanding(loan, rows) * fraction * Decimal(loan.rate) / 100
    return int(round_minor(interest, 0))
