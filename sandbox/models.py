"""Tables of the sandbox bank.

Amounts are stored as integers in the currency's minor unit (pence, cents, fen); they become
``Decimal`` with the currency's exponent at the boundary (:mod:`gateway.core.money`). Postings are
immutable (a database trigger refuses UPDATE, see the first migration); a correction is a new
journal that reverses the old one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.store.models import NAMING, UtcDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


Timestamp = UtcDateTime()


class Base(DeclarativeBase):
    """Declarative base of the sandbox tables (prefixed ``sbx_``)."""

    metadata = MetaData(naming_convention=NAMING)


class Tenant(Base):
    """One partner organisation's isolated sandbox data set."""

    __tablename__ = "sbx_tenant"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    profile: Mapped[str] = mapped_column(String(32), default="standard")
    # The day the data set was generated for: history ends here, the clock starts here.
    anchor: Mapped[dt.datetime] = mapped_column(Timestamp)
    clock_offset_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    # Sandbox time up to which due work (standing orders, holds, ...) has been run.
    due_checked_at: Mapped[dt.datetime] = mapped_column(
        Timestamp, default=lambda: dt.datetime.now(dt.UTC)
    )
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class Customer(Base):
    """A sandbox test customer (PSU) with login credentials shown to the partner's developers."""

    __tablename__ = "sbx_customer"
    __table_args__ = (UniqueConstraint("tenant_id", "username"),)

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("sbx_tenant.id", ondelete="CASCADE"))
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    # Sandbox test credentials are published to the tenant's developers; they guard no real data.
    password: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(140))
    kind: Mapped[str] = mapped_column(String(16))
    party_pk: Mapped[int] = mapped_column(ForeignKey("sbx_party.pk", ondelete="CASCADE"))


class Party(Base):
    """A person or company related to accounts (owner, joint holder, delegate)."""

    __tablename__ = "sbx_party"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("sbx_tenant.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    party_number: Mapped[str] = mapped_column(String(35))
    name: Mapped[str] = mapped_column(String(350))
    party_type: Mapped[str] = mapped_column(String(16))
    legal_structure: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(256))
    phone: Mapped[str | None] = mapped_column(String(32))
    address_line: Mapped[str | None] = mapped_column(String(140))
    town: Mapped[str | None] = mapped_column(String(35))
    post_code: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))


class Account(Base):
    """A ledger account: a customer's account, or an internal account of the bank.

    Customer accounts keep their booked balance and held amount on the row so that a debit can be
    checked against the limit in one conditional UPDATE. Internal accounts (clearing, income) have
    no limit and no running balance: their balance is the sum of their postings, which keeps the
    busiest rows of the bank out of every payment's lock set.
    """

    __tablename__ = "sbx_account"
    __table_args__ = (
        CheckConstraint("held_amount >= 0", name="held_not_negative"),
        CheckConstraint("credit_limit >= 0", name="limit_not_negative"),
        UniqueConstraint("tenant_id", "internal_code"),
    )

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("sbx_tenant.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    customer_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sbx_customer.pk", ondelete="CASCADE"), index=True
    )
    # Set on internal accounts only, e.g. "clearing:GBP".
    internal_code: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    account_type: Mapped[str] = mapped_column(String(16))
    account_subtype: Mapped[str] = mapped_column(String(16))
    product_code: Mapped[str] = mapped_column(String(32))
    nickname: Mapped[str] = mapped_column(String(70))
    opening_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="Enabled")
    sort_code: Mapped[str | None] = mapped_column(String(6))
    account_number: Mapped[str | None] = mapped_column(String(8))
    iban: Mapped[str | None] = mapped_column(String(34))
    # A Luhn-valid test card number (never a real one); masked unless the consent has ReadPAN.
    pan: Mapped[str | None] = mapped_column(String(19))
    credit_limit: Mapped[int] = mapped_column(BigInteger, default=0)
    booked_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    held_amount: Mapped[int] = mapped_column(BigInteger, default=0)


class AccountParty(Base):
    """Which parties an account has, beside its owner."""

    __tablename__ = "sbx_account_party"

    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), primary_key=True
    )
    party_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_party.pk", ondelete="CASCADE"), primary_key=True
    )


class Journal(Base):
    """A balanced set of postings: per currency, the amounts of its postings sum to zero."""

    __tablename__ = "sbx_journal"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("sbx_tenant.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    booked_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    memo: Mapped[str | None] = mapped_column(String(140))
    # A reversal names the journal it undoes; a journal is reversed at most once.
    reverses_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sbx_journal.pk", ondelete="CASCADE"), unique=True
    )


class Posting(Base):
    """One immutable line of a journal on one account, with what AIS shows of a transaction."""

    __tablename__ = "sbx_posting"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        # Keyset pagination of an account's history: newest first on (booking time, id).
        Index("ix_sbx_posting_history", "account_pk", "booking_datetime", "pk"),
    )

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    journal_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_journal.pk", ondelete="CASCADE"), index=True
    )
    account_pk: Mapped[int] = mapped_column(ForeignKey("sbx_account.pk", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    # Signed, in minor units: positive credits the account, negative debits it.
    amount: Mapped[int] = mapped_column(BigInteger)
    booking_datetime: Mapped[dt.datetime] = mapped_column(Timestamp)
    value_datetime: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # Booked balance of a customer account right after this posting; NULL on internal accounts.
    balance_after: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(35))
    information: Mapped[str] = mapped_column(String(140))
    btc_code: Mapped[str | None] = mapped_column(String(35))
    btc_subcode: Mapped[str | None] = mapped_column(String(35))
    proprietary_code: Mapped[str | None] = mapped_column(String(35))
    merchant_name: Mapped[str | None] = mapped_column(String(350))
    merchant_mcc: Mapped[str | None] = mapped_column(String(4))
    counterparty_name: Mapped[str | None] = mapped_column(String(350))
    counterparty_scheme: Mapped[str | None] = mapped_column(String(40))
    counterparty_id: Mapped[str | None] = mapped_column(String(256))


class Hold(Base):
    """An authorisation hold: a pending debit that lowers the available balance until it is
    settled (booked as a journal) or released."""

    __tablename__ = "sbx_hold"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="Active")
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    information: Mapped[str] = mapped_column(String(140))
    merchant_name: Mapped[str | None] = mapped_column(String(350))
    merchant_mcc: Mapped[str | None] = mapped_column(String(4))
    settled_journal_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sbx_journal.pk", ondelete="SET NULL")
    )


class Beneficiary(Base):
    """A payee saved on an account."""

    __tablename__ = "sbx_beneficiary"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    reference: Mapped[str | None] = mapped_column(String(35))
    name: Mapped[str] = mapped_column(String(350))
    scheme: Mapped[str] = mapped_column(String(40))
    identification: Mapped[str] = mapped_column(String(256))
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)


class StandingOrder(Base):
    """A recurring transfer executed by the sandbox clock (frequency in OBIE notation)."""

    __tablename__ = "sbx_standing_order"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    frequency: Mapped[str] = mapped_column(String(35))
    reference: Mapped[str] = mapped_column(String(35))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    creditor_name: Mapped[str] = mapped_column(String(350))
    creditor_scheme: Mapped[str] = mapped_column(String(40))
    creditor_identification: Mapped[str] = mapped_column(String(256))
    # Set when the creditor is an account of the same tenant: the money stays in the bank.
    creditor_account_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="SET NULL")
    )
    first_payment_date: Mapped[dt.date] = mapped_column(Date)
    next_payment_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    last_payment_date: Mapped[dt.date | None] = mapped_column(Date)
    final_payment_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="Active")


class DirectDebit(Base):
    """A direct debit mandate on an account."""

    __tablename__ = "sbx_direct_debit"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    mandate_reference: Mapped[str] = mapped_column(String(35))
    name: Mapped[str] = mapped_column(String(70))
    status: Mapped[str] = mapped_column(String(16), default="Active")
    previous_payment_date: Mapped[dt.date | None] = mapped_column(Date)
    previous_payment_amount: Mapped[int | None] = mapped_column(BigInteger)


class ScheduledPayment(Base):
    """A one-off transfer booked for a future day, executed by the sandbox clock."""

    __tablename__ = "sbx_scheduled_payment"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    execution_date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    creditor_name: Mapped[str] = mapped_column(String(350))
    creditor_scheme: Mapped[str] = mapped_column(String(40))
    creditor_identification: Mapped[str] = mapped_column(String(256))
    reference: Mapped[str] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(16), default="Scheduled")
    journal_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sbx_journal.pk", ondelete="SET NULL")
    )


class Statement(Base):
    """A monthly statement: booked balances at its start and end and the period's totals."""

    __tablename__ = "sbx_statement"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    start: Mapped[dt.datetime] = mapped_column(Timestamp)
    end: Mapped[dt.datetime] = mapped_column(Timestamp)
    created: Mapped[dt.datetime] = mapped_column(Timestamp)
    opening_balance: Mapped[int] = mapped_column(BigInteger)
    closing_balance: Mapped[int] = mapped_column(BigInteger)
    total_credits: Mapped[int] = mapped_column(BigInteger)
    total_debits: Mapped[int] = mapped_column(BigInteger)


class Payment(Base):
    """A payment the bank's payment engine executed or refused (:mod:`sandbox.execution`): one
    asked for through the payment contract, or one the clock made for a scheduled payment or a
    standing order's occurrence."""

    __tablename__ = "sbx_payment"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("sbx_tenant.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    account_pk: Mapped[int] = mapped_column(
        ForeignKey("sbx_account.pk", ondelete="CASCADE"), index=True
    )
    # Positive, in minor units of the debtor account's currency.
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    creditor_name: Mapped[str] = mapped_column(String(350))
    creditor_scheme: Mapped[str | None] = mapped_column(String(40))
    creditor_identification: Mapped[str | None] = mapped_column(String(256))
    reference: Mapped[str] = mapped_column(String(35))
    # Booked or Rejected.
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(140))
    # order, scheduled_payment or standing_order, and that instruction's public id.
    origin: Mapped[str] = mapped_column(String(32))
    instruction_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    booked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    journal_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sbx_journal.pk", ondelete="SET NULL")
    )


class FxQuote(Base):
    """A priced conversion (:class:`gateway.core.fx.Quote`), kept so that a payment can cite it;
    amounts in minor units of their currencies, rates as exact decimal strings."""

    __tablename__ = "sbx_fx_quote"

    pk: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("sbx_tenant.id", ondelete="CASCADE"), index=True
    )
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    corridor_id: Mapped[str] = mapped_column(String(16))
    fixed_side: Mapped[str] = mapped_column(String(4))
    mid_rate: Mapped[str] = mapped_column(String(40))
    rate: Mapped[str] = mapped_column(String(40))
    spread_bps: Mapped[int] = mapped_column(Integer)
    fee: Mapped[int] = mapped_column(BigInteger)
    sell_amount: Mapped[int] = mapped_column(BigInteger)
    buy_amount: Mapped[int] = mapped_column(BigInteger)
    lock: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    settlement_date: Mapped[dt.date] = mapped_column(Date)
    # The instruction or payment that executed on the quote (an agreed quote serves one).
    used_by: Mapped[str | None] = mapped_column(String(40))


# The FX desk's other tables, on the same metadata.
from sandbox.fx_models import FxExecution, FxInstruction  # noqa: E402, F401
