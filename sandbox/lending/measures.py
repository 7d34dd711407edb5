"""What a credit decision measures in an applicant's own account history.

The input is what the account-information contract (:mod:`gateway.core.accounts`) gives: each
account with its balances and its transactions (booking time, amount, credit or debit, bank
transaction code, proprietary code, reference, merchant, counterparty, balance after). The
output, :class:`Measures`, is a handful of monthly figures over the last twelve whole calendar
months before the decision day:

- income: recurring credits (salary, benefits, pensions, business takings and customer
  receipts), its level (the median month) and its regularity;
- essential outgoings: rent or mortgage, council tax, utilities, insurance, groceries and fuel
  for a person; every operating payment (suppliers, payroll, tax, rent) for a business;
- existing credit commitments: loan instalments, card repayments, buy now pay later and payday
  lenders;
- balance volatility (how much the month-on-month change of the balance swings) and days
  overdrawn;
- returned payments (direct debits returned unpaid, payments bounced).

Only the applicant's current accounts in the loan's currency are read for flows; transfers
between the applicant's own accounts, loan drawdowns, conversions, refunds and returned items
are not income.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from gateway.core.accounts import Account, Balances, Transaction

WINDOW_MONTHS = 12
ZERO = Decimal(0)


class Flow(StrEnum):
    """What a transaction is to a lender."""

    INCOME = "Income"
    ESSENTIAL = "Essential"
    COMMITMENT = "Commitment"
    RETURNED = "Returned"
    OTHER = "Other"  # discretionary spending, own transfers, drawdowns, refunds: not counted


@dataclass(frozen=True, slots=True)
class AccountHistory:
    """One of the applicant's accounts as the account-information contract reads it:
    ``transactions`` newest first, as its pages give them."""

    account: Account
    balances: Balances
    transactions: Sequence[Transaction]


@dataclass(frozen=True, slots=True)
class Measures:
    """The applicant's figures, monthly amounts in ``currency`` over ``months`` whole months."""

    currency: str
    months: int
    monthly_income: Decimal  # the median month
    income_months: int  # months whose income reached half the median month
    income_variation: Decimal  # coefficient of variation of monthly income
    essential_outgoings: Decimal  # monthly mean
    credit_commitments: Decimal  # monthly mean
    balance_volatility: Decimal  # stdev of monthly balance change / monthly income
    days_overdrawn: int
    returned_payments: int


# Bank transaction codes (ISO 20022 family, sub-family names as OBIE carries them).
_RETURN_SUBCODES = frozenset(
    {"ReversalDueToReturnOrUnpaidDirectDebit", "ReversalDueToPaymentReturn", "UnpaidDirectDebit"}
)
_NOT_INCOME_SUBCODES = frozenset({"InternalBookTransfer", "Refund", "Drawdown", "Interest"})
_GROCERY_FUEL_MCC = frozenset({"5411", "5422", "5441", "5451", "5499", "5541", "5542"})
_ESSENTIAL_WORDS = (
    "RENT", "MORTGAGE", "CTAX", "COUNCIL", "WATER", "ENERGY", "ELECTRIC", "GAS", "BROADBAND",
    "INSURANCE", "TV LICENCE",
)  # fmt: skip
_UTILITY_PROPRIETARY = frozenset({"DirectDebit", "StandingOrder"})
_CREDIT_WORDS = (
    "LOAN", "CARD REPAYMENT", "CREDIT CARD", "KLARNA", "CLEARPAY", "PAYPAL PAY IN 3", "ZILCH",
    "LAYBUY", "PAYDAY", "FINANCE",
)  # fmt: skip
_CARD_REFERENCES = frozenset({"CARD"})


def classify(t: Transaction, business: bool) -> Flow:
    """Say what one transaction is to a lender (see the module's docstring)."""
    family, sub = t.bank_transaction_code or ("", "")
    text = f"{t.reference or ''} {t.information} {t.counterparty.name if t.counterparty else ''}"
    text = f"{text} {t.merchant.name if t.merchant else ''}".upper()
    if sub in _RETURN_SUBCODES or text.startswith(("RETURNED ", " RETURNED ", "UNPAID ")):
        return Flow.RETURNED if t.credit_debit == "Credit" else Flow.OTHER
    if t.credit_debit == "Credit":
        if sub in _NOT_INCOME_SUBCODES or t.proprietary_code in ("ForeignExchange", "LoanDrawdown"):
            return Flow.OTHER
        return Flow.INCOME if t.information != "Opening deposit" else Flow.OTHER
    if (
        family == "Lending"
        or t.reference in _CARD_REFERENCES
        or any(w in text for w in _CREDIT_WORDS)
    ):
        return Flow.COMMITMENT
    if sub == "InternalBookTransfer" or t.proprietary_code == "ForeignExchange":
        return Flow.OTHER
    if business:
        return Flow.ESSENTIAL  # every operating payment keeps a business trading
    if t.merchant is not None:
        return Flow.ESSENTIAL if t.merchant.category_code in _GROCERY_FUEL_MCC else Flow.OTHER
    if t.proprietary_code in _UTILITY_PROPRIETARY or any(w in text for w in _ESSENTIAL_WORDS):
        return Flow.ESSENTIAL
    return Flow.OTHER


def window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The twelve whole calendar months before ``as_of``'s month: [first day, end)."""
    end = as_of.replace(day=1)
    index = end.year * 12 + end.month - 1 - WINDOW_MONTHS
    return dt.date(index // 12, index % 12 + 1, 1), end


def measure(histories: Sequence[AccountHistory], currency: str, as_of: dt.date) -> Measures:
    """Measure the applicant's current accounts in ``currency`` over :func:`window`."""
    start, end = window(as_of)
    current = [
        h
        for h in histories
        if h.account.account_subtype == "CurrentAccount" and h.account.currency == currency
    ]
    opened = min((h.account.opening_date for h in current), default=end)
    first = max(start, opened)
    first_month = first.year * 12 + first.month - 1 + (1 if first.day > 1 else 0)
    months = max(0, end.year * 12 + end.month - 1 - first_month)
    keys = list(range(end.year * 12 + end.month - 1 - months, end.year * 12 + end.month - 1))
    flows = {flow: dict.fromkeys(keys, ZERO) for flow in Flow}
    returned, overdrawn_days = 0, set[int]()
    for h in current:
        returned += _flows(h, flows, start, end, keys, h.account.account_type == "Business")
        overdrawn_days |= _overdrawn_days(h, start, end)
    income = [flows[Flow.INCOME][k] for k in keys]
    median = statistics.median(income) if income else ZERO
    return Measures(
        currency=currency,
        months=months,
        monthly_income=_money(median),
        income_months=sum(1 for m in income if median > 0 and m * 2 >= median),
        income_variation=_ratio(statistics.pstdev(income), statistics.fmean(income))
        if income
        else ZERO,
        essential_outgoings=_mean(flows[Flow.ESSENTIAL], keys),
        credit_commitments=_mean(flows[Flow.COMMITMENT], keys),
        balance_volatility=_volatility(flows, keys, median),
        days_overdrawn=len(overdrawn_days),
        returned_payments=returned,
    )


def _flows(
    h: AccountHistory,
    flows: dict[Flow, dict[int, Decimal]],
    start: dt.date,
    end: dt.date,
    keys: list[int],
    business: bool,
) -> int:
    """Add one account's booked transactions in the window to ``flows`` (per flow, per month
    index); return how many were returned payments."""
    low, high = start.toordinal(), end.toordinal()
    wanted = set(keys)
    returned = 0
    # Card takings settle many times a day on a busy till: classify them once.
    cache: dict[tuple[object, ...], Flow] = {}
    for t in h.transactions:
        if t.status != "Booked":
            continue
        stamp = t.booking_datetime
        if not low <= stamp.toordinal() < high:
            continue
        month = stamp.year * 12 + stamp.month - 1
        if month not in wanted:
            continue
        key = (t.credit_debit, t.bank_transaction_code, t.proprietary_code, t.reference,
               t.information, t.merchant, t.counterparty)  # fmt: skip
        flow = cache.get(key)
        if flow is None:
            flow = cache[key] = classify(t, business)
        if flow is Flow.RETURNED:
            returned += 1
        bucket = flows[flow]
        bucket[month] += t.amount.amount if t.credit_debit == "Credit" else -t.amount.amount
    return returned


def _overdrawn_days(h: AccountHistory, start: dt.date, end: dt.date) -> set[int]:
    """The days (ordinals) in the window that closed with the account below zero.

    Transactions come newest first (as the contract pages them). A day's closing balance is the
    balance after its last transaction, held until the next day with one; where the bank gives
    no balance after, it is found by walking back from today's booked balance."""
    low, high = start.toordinal(), end.toordinal()
    days: set[int] = set()
    balance = h.balances.booked.amount
    later = max(high, h.balances.as_of.toordinal() + 1)  # the day the balance held until
    for t in h.transactions:
        if t.status != "Booked":
            continue
        if t.balance_after is not None:
            balance = t.balance_after.amount
        day = t.booking_datetime.toordinal()
        if balance < 0 and day < high:
            days.update(range(max(day, low), min(later, high)))
        later = day
        balance -= t.amount.amount if t.credit_debit == "Credit" else -t.amount.amount
        if day < low:
            return days
    if balance < 0:  # the balance before the oldest transaction read
        days.update(range(low, min(later, high)))
    return days


def _volatility(flows: dict[Flow, dict[int, Decimal]], keys: list[int], income: Decimal) -> Decimal:
    """The spread of monthly net flows (a month's change of balance) against monthly income."""
    if len(keys) < 2 or income <= 0:
        return ZERO
    net = [sum((flows[f][k] for f in Flow), ZERO) for k in keys]
    return _ratio(statistics.pstdev(net), income)


def _mean(by_month: dict[int, Decimal], keys: list[int]) -> Decimal:
    """Monthly mean of a flow, as a positive amount for outgoings."""
    if not keys:
        return ZERO
    return _money(abs(sum((by_month[k] for k in keys), ZERO)) / len(keys))


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _ratio(numerator: Decimal | float, denominator: Decimal | float) -> Decimal:
    if not denominator:
        return ZERO
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.001"))
