"""Hand-built account histories for the credit decision's rule tests.

The base person is paid 3,000.00 on the 28th, pays 1,400.00 rent on the 1st and spends 300.00 on
groceries on the 10th, from an account opened on 1 June 2024 with 2,000.00. Decided on
15 January 2026, the window is calendar 2025: income 3,000, essential outgoings 1,700, no
credit, so the largest affordable instalment is 3,000 - 1,700 - 300 (the buffer) = 1,000.00.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from gateway.core.accounts import Account, Balances, Merchant, Transaction
from gateway.core.credit import CreditRequest
from gateway.core.money import Money
from gateway.core.values import Counterparty
from sandbox.lending import AccountHistory, Assessment, decide
from sandbox.lending.decision import instalment

AS_OF = dt.date(2026, 1, 15)
OPENED = dt.date(2024, 6, 1)
SALARY = ("ReceivedCreditTransfers", "DomesticCreditTransfer")
STANDING_ORDER = ("IssuedCreditTransfers", "StandingOrder")
DIRECT_DEBIT = ("IssuedDirectDebits", "DirectDebitPayment")
CARD = ("IssuedCardTransactions", "PointOfSale")
OWN_TRANSFER_IN = ("ReceivedCreditTransfers", "InternalBookTransfer")
RETURNED = ("IssuedDirectDebits", "UnpaidDirectDebit")
TESCO = Merchant("Tesco Stores", "5411")


@dataclass(frozen=True)
class Entry:
    """One booking: its day, signed amount and what it looks like."""

    day: dt.date
    amount: Decimal
    code: tuple[str, str] | None = None
    proprietary: str | None = None
    reference: str | None = None
    information: str = ""
    merchant: Merchant | None = None
    counterparty: Counterparty | None = None
    second: int = field(default=43_200)


def salary(day: dt.date, amount: str = "3000.00") -> Entry:
    return Entry(day, Decimal(amount), SALARY, "Transfer", "SALARY", "Salary Northwind",
                 counterparty=Counterparty("Northwind Analytics Ltd"), second=21_600)  # fmt: skip


def rent(day: dt.date, amount: str = "1400.00") -> Entry:
    return Entry(day, -Decimal(amount), STANDING_ORDER, "StandingOrder", "RENT", "Rent",
                 counterparty=Counterparty("Harbour Lettings"))  # fmt: skip


def groceries(day: dt.date, amount: str = "300.00") -> Entry:
    return Entry(day, -Decimal(amount), CARD, "CardPayment", None, "Tesco Stores", TESCO)


def debit(day: dt.date, amount: str, name: str, reference: str) -> Entry:
    return Entry(day, -Decimal(amount), DIRECT_DEBIT, "DirectDebit", reference, name,
                 counterparty=Counterparty(name))  # fmt: skip


def own_transfer_in(day: dt.date, amount: str) -> Entry:
    return Entry(day, Decimal(amount), OWN_TRANSFER_IN, "Transfer", "SAVINGS", "From saver")


def returned(day: dt.date, amount: str = "40.00") -> list[Entry]:
    """A direct debit presented and returned unpaid."""
    return [
        debit(day, amount, "Vodafone", "VODA"),
        Entry(day, Decimal(amount), RETURNED, "DirectDebit", "VODA", "Returned direct debit",
              second=43_201),
    ]  # fmt: skip


def months(first: dt.date = OPENED, last: dt.date = AS_OF) -> list[dt.date]:
    """The first day of every month from ``first``'s to ``last``'s."""
    out, day = [], first.replace(day=1)
    while day <= last:
        out.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


def base(skip_salary: Iterable[dt.date] = (), opened: dt.date = OPENED) -> list[Entry]:
    """The base person's bookings up to the decision day (salary left out in ``skip_salary``
    months)."""
    entries = [Entry(opened, Decimal("2000.00"), SALARY, "Transfer", None, "Opening deposit")]
    for month in months(opened):
        entries.append(rent(month))
        if month.replace(day=10) < AS_OF:
            entries.append(groceries(month.replace(day=10)))
        if month.replace(day=28) < AS_OF and month not in skip_salary:
            entries.append(salary(month.replace(day=28)))
    return [e for e in entries if e.day >= opened]


def history(
    entries: Iterable[Entry],
    kind: Literal["Personal", "Business"] = "Personal",
    opened: dt.date = OPENED,
    with_balance_after: bool = True,
) -> AccountHistory:
    """The account with ``entries`` booked, newest first, each with its balance after."""
    ordered = sorted(entries, key=lambda e: (e.day, e.second))
    balance, items = Decimal("0.00"), []
    for n, e in enumerate(ordered):
        balance += e.amount
        stamp = dt.datetime.combine(e.day, dt.time(), dt.UTC) + dt.timedelta(seconds=e.second)
        items.append(Transaction(
            id=f"t{n}", account_id="acc", amount=Money(abs(e.amount), "GBP"),
            credit_debit="Credit" if e.amount > 0 else "Debit", status="Booked",
            booking_datetime=stamp, value_datetime=stamp, reference=e.reference,
            information=e.information, bank_transaction_code=e.code,
            proprietary_code=e.proprietary, merchant=e.merchant, counterparty=e.counterparty,
            balance_after=Money(balance, "GBP") if with_balance_after else None,
        ))  # fmt: skip
    account = Account(
        id="acc", customer_id="cus", currency="GBP", account_type=kind,
        account_subtype="CurrentAccount", nickname="Everyday", opening_date=opened,
        status="Enabled", product_id="PCA", product_name="Everyday", identifiers=(),
    )  # fmt: skip
    now = dt.datetime.combine(AS_OF, dt.time(9), dt.UTC)
    zero = Money(Decimal("0.00"), "GBP")
    balances = Balances("acc", now, Money(balance, "GBP"), zero, Money(balance, "GBP"), zero)
    return AccountHistory(account, balances, tuple(reversed(items)))


def request(
    amount: str = "10000",
    term: int = 36,
    kind: Literal["Personal", "Business"] = "Personal",
    payment: str | None = None,
    minimum: str = "1000",
    maximum_term: int = 60,
) -> CreditRequest:
    """A loan at 9.9% over ``term`` months (instalment as priced unless ``payment``)."""
    rate = Decimal("9.9")
    return CreditRequest(
        applicant=kind, currency="GBP", amount=Decimal(amount), term_months=term,
        instalment=Decimal(payment) if payment else instalment(Decimal(amount), rate, term),
        annual_rate=rate, minimum_amount=Decimal(minimum),
        maximum_term_months=maximum_term,
    )  # fmt: skip


def decided(histories: list[AccountHistory], asked: CreditRequest) -> Assessment:
    """The decision on ``histories`` as of :data:`AS_OF`."""
    return decide(histories, asked, AS_OF)
