"""The bank-core interface: what the gateway needs from a bank, and nothing of how it is kept.

The gateway calls a :class:`BankCore`; the sandbox (``sandbox.core.SandboxCore``) implements it
and a real bank would implement it over its own systems. This module imports neither Flask nor
SQLAlchemy so that any core can depend on it without pulling in the application.

Amounts are :class:`decimal.Decimal` quantised to the currency's exponent (ISO 4217), never float.
Every method is scoped to a *tenant*: the isolated data set of one partner organisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

CreditDebit = Literal["Credit", "Debit"]
TransactionStatus = Literal["Booked", "Pending", "Rejected"]


class BankCoreError(Exception):
    """Base of the errors a bank core raises for a request it cannot honour."""


class UnknownResource(BankCoreError):
    """The resource does not exist in this tenant (never says whether it exists elsewhere)."""


class InsufficientFunds(BankCoreError):
    """A debit would take an account below its limit; nothing was posted."""


class InvalidInstruction(BankCoreError):
    """An instruction is malformed for the bank (currency mismatch, zero amount, ...)."""


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency; ``amount`` is quantised to the currency's exponent."""

    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class AccountIdentifier:
    """One identification of an account, named by an OBIE scheme (``UK.OBIE.IBAN``, ...)."""

    scheme: str
    identification: str
    name: str | None = None
    secondary_identification: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    """A bank customer who can log in (a sandbox test PSU)."""

    id: str
    username: str
    name: str
    kind: Literal["Personal", "Business"]


@dataclass(frozen=True, slots=True)
class SandboxLogin:
    """A test customer's sandbox credentials, shown to the tenant's developers."""

    customer: Customer
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address."""

    lines: tuple[str, ...]
    town: str
    post_code: str
    country: str


@dataclass(frozen=True, slots=True)
class Party:
    """A person or organisation related to an account (OBIE ``OBParty2``)."""

    id: str
    name: str
    party_type: Literal["Sole", "Joint", "Delegate"]
    party_number: str
    email: str | None
    phone: str | None
    address: Address | None
    legal_structure: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """A customer account as the account-information APIs describe it."""

    id: str
    customer_id: str
    currency: str
    account_type: Literal["Personal", "Business"]
    account_subtype: Literal["CurrentAccount", "Savings", "CreditCard", "Loan"]
    nickname: str
    opening_date: dt.date
    status: Literal["Enabled", "Disabled", "Deleted", "Pending"]
    product_id: str
    product_name: str
    identifiers: tuple[AccountIdentifier, ...]


@dataclass(frozen=True, slots=True)
class Balances:
    """Balances of one account at ``as_of``.

    ``booked`` is the sum of booked postings; ``available`` is ``booked`` less active holds
    (pending debits), without the credit line; ``credit_line`` is the overdraft or card limit.
    """

    account_id: str
    as_of: dt.datetime
    booked: Money
    held: Money
    available: Money
    credit_line: Money


@dataclass(frozen=True, slots=True)
class Merchant:
    """The merchant of a card transaction."""

    name: str
    category_code: str


@dataclass(frozen=True, slots=True)
class Counterparty:
    """The other side of a transfer."""

    name: str
    scheme: str | None = None
    identification: str | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    """One entry of an account's history: a booked posting or a pending hold."""

    id: str
    account_id: str
    amount: Money
    credit_debit: CreditDebit
    status: TransactionStatus
    booking_datetime: dt.datetime
    value_datetime: dt.datetime | None
    reference: str | None
    information: str
    bank_transaction_code: tuple[str, str] | None
    proprietary_code: str | None
    merchant: Merchant | None
    counterparty: Counterparty | None
    balance_after: Money | None


@dataclass(frozen=True, slots=True)
class TransactionCursor:
    """Keyset position in a history ordered newest first: (booking time, id) of the last item."""

    booking_datetime: dt.datetime
    id: int


@dataclass(frozen=True, slots=True)
class TransactionPage:
    """A page of transactions, newest first, and the cursor of the next page if there is one."""

    items: tuple[Transaction, ...]
    next_cursor: TransactionCursor | None


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """A payee the customer saved."""

    id: str
    account_id: str
    reference: str | None
    creditor: Counterparty
    trusted: bool


@dataclass(frozen=True, slots=True)
class StandingOrder:
    """A recurring payment instruction (frequency in OBIE ``OBFrequency`` notation)."""

    id: str
    account_id: str
    frequency: str
    reference: str
    amount: Money
    creditor: Counterparty
    first_payment_date: dt.date
    next_payment_date: dt.date | None
    last_payment_date: dt.date | None
    final_payment_date: dt.date | None
    status: Literal["Active", "Inactive"]


@dataclass(frozen=True, slots=True)
class DirectDebit:
    """A direct debit mandate."""

    id: str
    account_id: str
    mandate_reference: str
    name: str
    status: Literal["Active", "Inactive"]
    previous_payment_date: dt.date | None
    previous_payment_amount: Money | None


@dataclass(frozen=True, slots=True)
class ScheduledPayment:
    """A one-off payment booked for a future date."""

    id: str
    account_id: str
    execution_date: dt.date
    amount: Money
    creditor: Counterparty
    reference: str
    status: Literal["Scheduled", "Executed", "Rejected", "Cancelled"]


@dataclass(frozen=True, slots=True)
class Statement:
    """A periodic statement with its opening and closing booked balances and totals."""

    id: str
    account_id: str
    start: dt.datetime
    end: dt.datetime
    creation: dt.datetime
    opening_balance: Money
    closing_balance: Money
    total_credits: Money
    total_debits: Money


@dataclass(frozen=True, slots=True)
class Product:
    """The product an account belongs to."""

    id: str
    name: str
    product_type: str


@dataclass(frozen=True, slots=True)
class TransferInstruction:
    """Move money out of a customer account to another account of the bank or outside it.

    ``creditor_account_id`` names an account of the same tenant; otherwise ``creditor`` describes
    an external account and the money leaves through the currency's clearing account.
    """

    debtor_account_id: str
    amount: Money
    reference: str
    creditor_account_id: str | None = None
    creditor: Counterparty | None = None
    information: str | None = None


@dataclass(frozen=True, slots=True)
class PostedTransfer:
    """The outcome of a transfer: the journal that moved the money and when it was booked."""

    journal_id: str
    booking_datetime: dt.datetime
    debtor_balance_after: Money


@dataclass(frozen=True, slots=True)
class DueRun:
    """What one ``advance_clock`` executed, by kind (``standing_order``, ``scheduled_payment``)."""

    now: dt.datetime
    executed: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TenantInfo:
    """A tenant's seed, clock and size."""

    id: str
    seed: int
    now: dt.datetime
    customers: int
    accounts: int


class BankCore(Protocol):
    """What the gateway asks of a bank. Implementations are bound to one unit of work (they
    flush, never commit); errors are :class:`BankCoreError` subclasses."""

    def ensure_tenant(
        self,
        tenant: str,
        seed: int | None = None,
        *,
        profile: str = "standard",
        transactions: int | None = None,
    ) -> TenantInfo:
        """Return the tenant, generating its data set from ``seed`` on first use.

        ``profile`` names the size of a new data set (``standard``, or ``large`` with about
        ``transactions`` rows in one business account, for load tests and benchmarks).
        """

    def tenant_info(self, tenant: str) -> TenantInfo:
        """Return an existing tenant as it stands, creating nothing and running no due work;
        :class:`UnknownResource` if there is no such tenant (only ``ensure_tenant`` makes one)."""

    def list_tenants(self) -> Sequence[TenantInfo]:
        """Return every tenant, ordered by id, as :meth:`tenant_info` would (maybe none)."""

    def reset_tenant(self, tenant: str, seed: int | None = None) -> TenantInfo:
        """Throw away the tenant's data and regenerate it from its seed (or a new one)."""

    def now(self, tenant: str) -> dt.datetime:
        """Return the tenant's current time (aware, UTC)."""

    def advance_clock(self, tenant: str, delta: dt.timedelta) -> DueRun:
        """Move the tenant's clock forward and execute whatever falls due on the way."""

    def customers(self, tenant: str) -> Sequence[Customer]:
        """Return the tenant's customers."""

    def authenticate(self, tenant: str, username: str, password: str) -> Customer | None:
        """Return the customer whose sandbox credentials these are, or ``None``."""

    def sandbox_logins(self, tenant: str) -> Sequence[SandboxLogin]:
        """Return the test customers' credentials (a real bank's core returns none)."""

    def accounts(self, tenant: str, customer_id: str) -> Sequence[Account]:
        """Return a customer's accounts."""

    def account(self, tenant: str, account_id: str) -> Account:
        """Return one account; :class:`UnknownResource` if not in this tenant."""

    def balances(self, tenant: str, account_id: str) -> Balances:
        """Return an account's balances now."""

    def transactions(
        self,
        tenant: str,
        account_id: str,
        *,
        booked_from: dt.datetime | None = None,
        booked_to: dt.datetime | None = None,
        after: TransactionCursor | None = None,
        limit: int = 100,
        direction: CreditDebit | None = None,
    ) -> TransactionPage:
        """Return a page of the account's history, newest first, within the booking window
        (and only credits or only debits when ``direction`` says so)."""

    def parties(self, tenant: str, account_id: str) -> Sequence[Party]:
        """Return the parties of an account."""

    def customer_party(self, tenant: str, customer_id: str) -> Party:
        """Return the party of the customer who logged in."""

    def product(self, tenant: str, account_id: str) -> Product:
        """Return the product of an account."""

    def beneficiaries(self, tenant: str, account_id: str) -> Sequence[Beneficiary]:
        """Return an account's saved payees."""

    def standing_orders(self, tenant: str, account_id: str) -> Sequence[StandingOrder]:
        """Return an account's standing orders."""

    def direct_debits(self, tenant: str, account_id: str) -> Sequence[DirectDebit]:
        """Return an account's direct debit mandates."""

    def scheduled_payments(self, tenant: str, account_id: str) -> Sequence[ScheduledPayment]:
        """Return an account's scheduled payments."""

    def statements(self, tenant: str, account_id: str) -> Sequence[Statement]:
        """Return an account's statements, newest first."""

    def transfer(self, tenant: str, instruction: TransferInstruction) -> PostedTransfer:
        """Book a transfer atomically; :class:`InsufficientFunds` leaves nothing posted."""
