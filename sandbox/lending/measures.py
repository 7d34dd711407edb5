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
_RETURN_SUBCODES = frozenset({"UnpaidDirectDebit", "ReversalDueToPaymentReturn"})
_NOTINCOME_SUBCODES = frozenset({"InternalBookTransfer", "Refund", "Drawdown", "Interest"})
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
        if sub in _NOTINCOME_SUBCODES or t.proprietary_code in ("ForeignExchange", "LoanDrawdown"):
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


FLOWS = tuple(Flow)  # the order of a summary's sums
_INCOME = FLOWS.index(Flow.INCOME)
_RETURNED = FLOWS.index(Flow.RETURNED)


@dataclass(frozen=True, slots=True)
class Summary:
    """What the measures are made from: for each flow (in :class:`Flow` order) its signed
    monthly sums in ``currency`` over the months measured (oldest first), the payments returned
    in those months and the days of the window that closed overdrawn on any account. The full
    read (:func:`summarise`) and the bank's own aggregated read give the same summary."""

    currency: str
    sums: tuple[tuple[Decimal, ...], ...]
    returned_payments: int
    days_overdrawn: int


def months_measured(opened: dt.date | None, as_of: dt.date) -> list[dt.date]:
    """The first days of the whole months of :func:`window` from ``opened`` on (the earliest
    opening of the accounts read; a part month counts for nothing)."""
    start, end = window(as_of)
    first = max(start, opened or end)
    if first.day > 1:
        first = (first + dt.timedelta(days=31)).replace(day=1)
    starts = []
    while first < end:
        starts.append(first)
        first = (first + dt.timedelta(days=31)).replace(day=1)
    return starts


def measure(histories: Sequence[AccountHistory], currency: str, as_of: dt.date) -> Measures:
    """Measure the applicant's current accounts in ``currency`` over :func:`window`."""
    return measures_of(summarise(histories, currency, as_of))


def summarise(histories: Sequence[AccountHistory], currency: str, as_of: dt.date) -> Summary:
    """Sum the current accounts in ``currency`` of ``histories`` by month and flow."""
    start, end = window(as_of)
    current = [h for h in histories if measured(h.account, currency)]
    starts = months_measured(min((h.account.opening_date for h in current), default=None), as_of)
    sums = [[ZERO] * len(starts) for _ in FLOWS]
    returned, overdrawn = 0, set[int]()
    for h in current:
        returned += _scan(h, sums, starts, (start, end), overdrawn)
    return Summary(currency, tuple(map(tuple, sums)), returned, len(overdrawn))


def measured(account: Account, currency: str) -> bool:
    """Whether the decision reads ``account``: a current account in the loan's currency."""
    return account.account_subtype == "CurrentAccount" and account.currency == currency


def measures_of(summary: Summary) -> Measures:
    """The measures of a :class:`Summary`."""
    sums = summary.sums
    income = list(sums[_INCOME])
    median = statistics.median(income) if income else ZERO
    return Measures(
        currency=summary.currency,
        months=len(income),
        monthly_income=_money(median),
        income_months=sum(1 for m in income if median > 0 and m * 2 >= median),
        income_variation=_ratio(statistics.pstdev(income), statistics.fmean(income))
        if income
        else ZERO,
        essential_outgoings=_mean(sums[FLOWS.index(Flow.ESSENTIAL)]),
        credit_commitments=_mean(sums[FLOWS.index(Flow.COMMITMENT)]),
        balance_volatility=_volatility(sums, median),
        days_overdrawn=summary.days_overdrawn,
        returned_payments=summary.returned_payments,
    )


def _scan(
    h: AccountHistory,
    sums: list[list[Decimal]],
    starts: list[dt.date],
    span: tuple[dt.date, dt.date],
    overdrawn: set[int],
) -> int:
    """One pass over an account's history, newest first: add each booked transaction of the
    months ``starts`` to ``sums`` (per flow, per month), add the days of ``span`` that closed
    below zero to ``overdrawn``; return how many payments were returned.

    A day's closing balance is the balance after its last transaction, held until the next day
    with one; where the bank gives no balance after, it is found by walking back from today's
    booked balance. Flows are classified once per kind of transaction (a busy till's card sales
    are all alike), and months and days are found by comparing with moving boundaries, so that
    a year of a café's card sales takes little more than the loop."""
    business = h.account.account_type == "Business"
    low, high = span[0].toordinal(), span[1].toordinal()
    tz = dt.UTC
    bounds = [dt.datetime.combine(d, dt.time(), tz) for d in starts]
    month, month_start = len(bounds), dt.datetime.combine(span[1], dt.time(), tz)
    day_start = dt.datetime.max.replace(tzinfo=tz)
    later = max(high, h.balances.as_of.toordinal() + 1)  # the day the balance held until
    balance, returned = h.balances.booked.amount, 0
    cache: dict[tuple[object, ...], int] = {}
    for t in h.transactions:
        if t.status != "Booked":
            continue
        stamp = t.booking_datetime
        after = t.balance_after
        if after is not None:
            balance = after.amount
        if stamp < day_start:  # the newest transaction of an older day: its closing balance
            day = stamp.toordinal()
            if balance < ZERO and day < high:
                overdrawn.update(range(max(day, low), min(later, high)))
            if day < low:
                return returned
            later, day_start = day, stamp.replace(hour=0, minute=0, second=0, microsecond=0)
            while month > 0 and stamp < month_start:
                month -= 1
                month_start = bounds[month]
        amount = t.amount.amount
        signed = amount if t.credit_debit == "Credit" else -amount
        balance -= signed
        if stamp < month_start or month == len(bounds):
            continue  # outside the months measured
        m, c = t.merchant, t.counterparty
        key = (t.information, t.reference, t.credit_debit, t.bank_transaction_code,
               t.proprietary_code, m, c.name if c else None)  # fmt: skip
        flow = cache.get(key)
        if flow is None:
            flow = cache[key] = FLOWS.index(classify(t, business))
        sums[flow][month] += signed
        if flow == _RETURNED:
            returned += 1
    if balance < ZERO:  # the balance before the oldest transaction read
        overdrawn.update(range(low, min(later, high)))
    return returned


def _volatility(sums: Sequence[Sequence[Decimal]], income: Decimal) -> Decimal:
    """The spread of monthly net flows (a month's change of balance) against monthly income."""
    months = len(sums[0])
    if months < 2 or income <= 0:
        return ZERO
    net = [sum((flow[k] for flow in sums), ZERO) for k in range(months)]
    return _ratio(statistics.pstdev(net), income)


def _mean(by_month: Sequence[Decimal]) -> Decimal:
    """Monthly mean of a flow, as a positive amount for outgoings."""
    if not by_month:
        return ZERO
    return _money(abs(sum(by_month, ZERO)) / len(by_month))


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def _ratio(numerator: Decimal | float, denominator: Decimal | float) -> Decimal:
    if not denominator:
        return ZERO
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.001"))
