"""Tables of the sandbox bank's loans: the loan, its instalments and its events.

A loan's money is on its loan account (:class:`sandbox.models.Account`, ``AccountSubType``
``Loan``) and in the ledger; these rows keep the terms, what was paid of each instalment and
every change (:class:`LoanEvent`, ready for an events API). Amounts are minor units.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.models import Base, BigId, Timestamp


class Loan(Base):
    """One drawn-down loan."""

    __tablename__ = "sbx_loan"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("sbx_tenant.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_pk: Mapped[int] = mapped_column(ForeignKey("sbx_account.pk", ondelete="CASCADE"))
    repayment_account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE")
    )
    product_id: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    principal: Mapped[int] = mapped_column(BigInteger)
    credit: Mapped[int] = mapped_column(BigInteger)
    arrangement_fee: Mapped[int] = mapped_column(BigInteger)
    late_fee: Mapped[int] = mapped_column(BigInteger)
    # The nominal annual rate (percent) and the day count, as the product priced them.
    rate: Mapped[str] = mapped_column(String(16))
    day_count: Mapped[str] = mapped_column(String(16))
    term: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    # Late fees charged and not yet paid.
    fees_due: Mapped[int] = mapped_column(BigInteger, default=0)
    arrears_bucket: Mapped[str | None] = mapped_column(String(8))
    # The last day a collection was tried (retries: once a day while in arrears).
    collected_on: Mapped[dt.date | None] = mapped_column(Date)
    opened_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    settled_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class LoanInstalment(Base):
    """One instalment of a loan: its terms, whether its due date has been processed, what was
    paid of it and its late fee."""

    __tablename__ = "sbx_loan_instalment"
    __table_args__ = (UniqueConstraint("loan_pk", "number"),)

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_pk: Mapped[int] = mapped_column(ForeignKey("sbx_loan.pk", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    late_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    # Its interest charged to the loan on the due date (or it was settled early).
    due: Mapped[bool] = mapped_column(Boolean, default=False)
    settled_early: Mapped[bool] = mapped_column(Boolean, default=False)


class LoanEvent(Base):
    """One change of a loan, oldest first by ``pk``."""

    __tablename__ = "sbx_loan_event"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_pk: Mapped[int] = mapped_column(ForeignKey("sbx_loan.pk", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    information: Mapped[str] = mapped_column(String(140))
