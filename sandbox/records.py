"""Rows of the sandbox tables as the bank-core value types of :mod:`gateway.core`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, cast

from gateway.core import settlement
from gateway.core.accounts import (
    Account,
    Beneficiary,
    CurrencyExchange,
    Customer,
    DirectDebit,
    Merchant,
    Party,
    ScheduledPayment,
    StandingOrder,
    Statement,
    Transaction,
)
from gateway.core.money import from_minor
from gateway.core.payments import Payment
from gateway.core.values import AccountIdentifier, Address, Counterparty
from sandbox import catalogue as cat
from sandbox import models as m

SCAN = "UK.OBIE.SortCodeAccountNumber"


def customer(c: m.Customer) -> Customer:
    """A customer row as :class:`gateway.Customer`."""
    return Customer(c.public_id, c.username, c.name, cast(Any, c.kind))


class AccountColumns(Protocol):
    """The columns of an account that :func:`account` reads: an ORM row or a plain result row."""

    public_id: str
    currency: str
    account_type: str
    account_subtype: str
    product_code: str
    nickname: str
    opening_date: dt.date
    status: str
    pan: str | None
    sort_code: str | None
    account_number: str | None
    iban: str | None


# The names of those columns, for statements that read only them.
ACCOUNT_COLUMNS = tuple(AccountColumns.__annotations__)


def account(a: AccountColumns, customer_id: str) -> Account:
    """An account row as :class:`gateway.Account`, with its identifiers.

    Cards are identified by PAN; sterling accounts by sort code and account number, then IBAN;
    currency accounts by IBAN.
    """
    product = cat.PRODUCTS[a.product_code]
    ids: list[AccountIdentifier] = []
    if a.pan:
        ids.append(AccountIdentifier("UK.OBIE.PAN", a.pan, a.nickname))
    else:
        if a.currency == "GBP" and a.sort_code and a.account_number:
            ids.append(AccountIdentifier(SCAN, a.sort_code + a.account_number, a.nickname))
        if a.iban:
            ids.append(AccountIdentifier("UK.OBIE.IBAN", a.iban, a.nickname))
    return Account(
        id=a.public_id,
        customer_id=customer_id,
        currency=a.currency,
        account_type=cast(Any, a.account_type),
        account_subtype=cast(Any, a.account_subtype),
        nickname=a.nickname,
        opening_date=a.opening_date,
        status=cast(Any, a.status),
        product_id=product.code,
        product_name=product.name,
        identifiers=tuple(ids),
    )


def party(p: m.Party) -> Party:
    """A party row as :class:`gateway.Party`."""
    address = None
    if p.address_line:
        address = Address((p.address_line,), p.town or "", p.post_code or "", p.country or "")
    return Party(
        id=p.public_id,
        name=p.name,
        party_type=cast(Any, p.party_type),
        party_number=p.party_number,
        email=p.email,
        phone=p.phone,
        address=address,
        legal_structure=p.legal_structure,
    )


class PostingColumns(NamedTuple):
    """The columns of a posting that :func:`posting` reads, in the order a history page selects
    them. A page converts its result rows to these: a tuple's fields read in a fraction of the
    time a result row's named attributes take, and a row is read some twenty times."""

    pk: int
    currency: str
    amount: int
    booking_datetime: dt.datetime
    value_datetime: dt.datetime | None
    balance_after: int | None
    reference: str | None
    information: str
    btc_code: str | None
    btc_subcode: str | None
    proprietary_code: str | None
    merchant_name: str | None
    merchant_mcc: str | None
    counterparty_name: str | None
    counterparty_scheme: str | None
    counterparty_id: str | None


def posting(p: PostingColumns, account_id: str) -> Transaction:
    """A booked posting as a :class:`gateway.Transaction`."""
    ccy = p.currency
    btc = (p.btc_code, p.btc_subcode) if p.btc_code and p.btc_subcode else None
    return Transaction(
        id=str(p.pk),
        account_id=account_id,
        amount=from_minor(abs(p.amount), ccy),
        credit_debit="Credit" if p.amount > 0 else "Debit",
        status="Booked",
        booking_datetime=p.booking_datetime,
        value_datetime=p.value_datetime,
        reference=p.reference,
        information=p.information,
        bank_transaction_code=btc,
        proprietary_code=p.proprietary_code,
        merchant=Merchant(p.merchant_name, p.merchant_mcc or "") if p.merchant_name else None,
        counterparty=(
            Counterparty(p.counterparty_name, p.counterparty_scheme, p.counterparty_id)
            if p.counterparty_name
            else None
        ),
        balance_after=from_minor(p.balance_after, ccy) if p.balance_after is not None else None,
    )


class HoldColumns(NamedTuple):
    """The columns of a card hold that :func:`hold` reads, in the order a history page selects
    them (see :class:`PostingColumns`)."""

    pk: int
    amount: int
    currency: str
    created_at: dt.datetime
    information: str
    merchant_name: str | None
    merchant_mcc: str | None


def hold(h: HoldColumns, account_id: str) -> Transaction:
    """An active card hold as a pending :class:`gateway.Transaction`."""
    return Transaction(
        id=f"h{h.pk}",
        account_id=account_id,
        amount=from_minor(h.amount, h.currency),
        credit_debit="Debit",
        status="Pending",
        booking_datetime=h.created_at,
        value_datetime=None,
        reference=None,
        information=h.information,
        bank_transaction_code=cat.CARD_PURCHASE,
        proprietary_code="CardPayment",
        merchant=Merchant(h.merchant_name, h.merchant_mcc or "") if h.merchant_name else None,
        counterparty=None,
        balance_after=None,
    )


def beneficiary(b: m.Beneficiary, account_id: str) -> Beneficiary:
    """A saved payee."""
    payee = Counterparty(b.name, b.scheme, b.identification)
    return Beneficiary(b.public_id, account_id, b.reference, payee, b.trusted)


def standing_order(s: m.StandingOrder, account_id: str) -> StandingOrder:
    """A standing order."""
    return StandingOrder(
        id=s.public_id,
        account_id=account_id,
        frequency=s.frequency,
        reference=s.reference,
        amount=from_minor(s.amount, s.currency),
        creditor=Counterparty(s.creditor_name, s.creditor_scheme, s.creditor_identification),
        first_payment_date=s.first_payment_date,
        next_payment_date=s.next_payment_date,
        last_payment_date=s.last_payment_date,
        final_payment_date=s.final_payment_date,
        status=cast(Any, s.status),
    )


def direct_debit(d: m.DirectDebit, a: m.Account) -> DirectDebit:
    """A direct debit mandate."""
    amount = d.previous_payment_amount
    return DirectDebit(
        id=d.public_id,
        account_id=a.public_id,
        mandate_reference=d.mandate_reference,
        name=d.name,
        status=cast(Any, d.status),
        previous_payment_date=d.previous_payment_date,
        previous_payment_amount=None if amount is None else from_minor(amount, a.currency),
    )


def scheduled_payment(s: m.ScheduledPayment, account_id: str) -> ScheduledPayment:
    """A scheduled payment."""
    return ScheduledPayment(
        id=s.public_id,
        account_id=account_id,
        execution_date=s.execution_date,
        amount=from_minor(s.amount, s.currency),
        creditor=Counterparty(s.creditor_name, s.creditor_scheme, s.creditor_identification),
        reference=s.reference,
        status=cast(Any, s.status),
    )


def statement(s: m.Statement, a: m.Account) -> Statement:
    """A monthly statement."""
    ccy = a.currency
    return Statement(
        id=s.public_id,
        account_id=a.public_id,
        start=s.start,
        end=s.end,
        creation=s.created,
        opening_balance=from_minor(s.opening_balance, ccy),
        closing_balance=from_minor(s.closing_balance, ccy),
        total_credits=from_minor(s.total_credits, ccy),
        total_debits=from_minor(s.total_debits, ccy),
    )


def payment(p: m.Payment, account_id: str) -> Payment:
    """A payment the engine executed or refused."""
    return Payment(
        id=p.public_id,
        debtor_account_id=account_id,
        amount=from_minor(p.amount, p.currency),
        creditor=Counterparty(p.creditor_name, p.creditor_scheme, p.creditor_identification),
        reference=p.reference,
        status=cast(Any, p.status),
        created_at=p.created_at,
        booked_at=p.booked_at,
        origin=cast(Any, p.origin),
        status_reason=p.status_reason,
        instruction_id=p.instruction_id,
        settles_at=settlement.next_cycle(p.booked_at) if p.booked_at else None,
    )


class ExchangeColumns(NamedTuple):
    """The columns of a kept conversion (``sbx_fx_execution``) that :func:`exchange` reads."""

    sell_currency: str
    buy_currency: str
    rate: str
    contract_id: str
    quoted_at: dt.datetime
    sell_amount: int


def exchange(row: ExchangeColumns) -> CurrencyExchange:
    """A kept conversion as the customer's transaction states it: what was converted, from
    which currency into which, at which rate (1 source = rate target), under which quote."""
    return CurrencyExchange(
        source_currency=row.sell_currency, target_currency=row.buy_currency,
        unit_currency=row.sell_currency, rate=Decimal(row.rate), contract_id=row.contract_id,
        quoted_at=row.quoted_at, instructed=from_minor(row.sell_amount, row.sell_currency),
    )  # fmt: skip
