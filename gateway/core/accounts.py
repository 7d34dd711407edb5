"""The account contract: what the account-information APIs and the consent page read of a bank.

Every method is scoped to a *tenant* (the isolated data set of one partner organisation, or the
one bank of a real deployment) and names accounts and customers by the public ids the core gives
them. Amounts are :class:`gateway.core.money.Money`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from gateway.core.money import Money
from gateway.core.values import AccountIdentifier, Address, Counterparty, CreditDebit

TransactionStatus = Literal["Booked", "Pending", "Rejected"]


@dataclass(frozen=True, slots=True)
class Customer:
    """A bank customer who can log in (a sandbox test PSU)."""

    id: str
    username: str
    name: str
    kind: Literal["Personal", "Business"]


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
    # The conversion behind an entry in another currency (a payment abroad, money from abroad).
    currency_exchange: CurrencyExchange | None = None


@dataclass(frozen=True, slots=True)
class CurrencyExchange:
    """OBIE v4.0 ``OBCurrencyExchange5``: ``instructed`` (in ``source_currency``) converted into
    ``target_currency`` at ``rate`` (1 ``unit_currency`` = ``rate`` of the other), under FX
    contract ``contract_id`` quoted at ``quoted_at``."""

    source_currency: str
    target_currency: str
    unit_currency: str
    rate: Decimal
    contract_id: str
    quoted_at: dt.datetime
    instructed: Money


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


class AccountsCore(Protocol):
    """What the gateway reads of a bank's customers and accounts.

    An implementation is bound to one unit of work: it may flush, never commit. Errors are
    :class:`gateway.core.errors.BankCoreError` subclasses; every read that names an account or a
    customer raises :class:`~gateway.core.errors.UnknownResource` when the tenant has none by that
    id (never saying whether another tenant has).
    """

    def now(self, tenant: str) -> dt.datetime:
        """Return the bank's current time for ``tenant`` (aware, UTC): the clock consents,
        statements and payments live on, which need not be this machine's."""

    def authenticate(self, tenant: str, username: str, password: str) -> Customer | None:
        """Return the customer whose credentials these are, or ``None`` (the bank's login page:
        wrong username and wrong password are not told apart)."""

    def accounts(self, tenant: str, customer_id: str) -> Sequence[Account]:
        """Return a customer's accounts, oldest first; ``UnknownResource`` for an unknown
        customer."""

    def account(self, tenant: str, account_id: str) -> Account:
        """Return one account."""

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
        (and only credits or only debits when ``direction`` says so); pending entries lead the
        first page. ``InvalidInstruction`` for a ``limit`` below 1."""

    def parties(self, tenant: str, account_id: str) -> Sequence[Party]:
        """Return the parties of an account: its owner first, then joint holders and
        delegates."""

    def customer_party(self, tenant: str, customer_id: str) -> Party:
        """Return the party of a customer (the one who authorised a consent)."""

    def product(self, tenant: str, account_id: str) -> Product:
        """Return the product an account belongs to."""

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
