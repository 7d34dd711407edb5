"""Behaviours: what each kind of account does on a given day.

Each behaviour is a generator of :data:`sandbox.events.Event` for one account and one day, drawing
from the tenant's seeded random generator, so the same seed gives the same history.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from sandbox import catalogue as cat
from sandbox.synth import counterparties as names
from sandbox.synth.vocabulary import Detail, Event, Legs, Plan, Sizer, booking, card

OPENING = booking("Opening deposit", None, cat.CREDIT_IN, "Transfer")
ATM_DETAIL: Detail = (
    None, "Cash withdrawal LINK ATM", *cat.ATM, "CashWithdrawal", None, "6011", None, None, None,
)  # fmt: skip
INTEREST_DETAIL = booking("Interest paid", "INTEREST", cat.INTEREST, "Interest")
TAKINGS_DETAIL = booking("Card takings settlement", None, cat.CARD_ACQUIRING, "CardTakings")
SALE_DETAIL = booking("Card sale", None, cat.CARD_ACQUIRING, "CardTakings")
VAT_DETAIL: Detail = (
    "VAT QTR", "HMRC VAT", *cat.DIRECT_DEBIT, "DirectDebit", None, None, "HMRC VAT", None, None,
)  # fmt: skip
FEES_DETAIL = booking("Card processing fees", "FEES", cat.FEES, "Fees")
LOAN_OUT = booking("Loan repayment", "LOAN REPAYMENT", cat.LOAN_REPAYMENT, "LoanRepayment")
LOAN_IN = booking("Repayment received", "LOAN REPAYMENT", cat.LOAN_REPAYMENT, "LoanRepayment")
DRAWDOWN_OUT = booking("Loan drawdown", "DRAWDOWN", cat.LOAN_DRAWDOWN, "LoanDrawdown")
DRAWDOWN_IN = booking("Loan proceeds", "DRAWDOWN", cat.LOAN_DRAWDOWN, "LoanDrawdown")
LOAN_INTEREST = booking("Loan interest", "INTEREST", cat.INTEREST, "Interest")


def _minor(rng: random.Random, low: float, high: float) -> int:
    return int(rng.uniform(low, high) * 100) or 1


def _sec(rng: random.Random, start_hour: int, end_hour: int) -> int:
    return rng.randrange(start_hour * 3600, end_hour * 3600)


def _spend(
    rng: random.Random, i: int, merchants: tuple[names.Merchant, ...], hours: tuple[int, int],
    ccy: str = "GBP",
) -> Event:  # fmt: skip
    m = rng.choice(merchants)
    return _sec(rng, *hours), ((i, -_minor(rng, m.low, m.high), card(m), f"card-settlement:{ccy}"),)


def last_working_day(day: dt.date) -> bool:
    """Tell whether ``day`` is the last Monday-to-Friday day of its month (payday)."""
    nxt = day + dt.timedelta(days=1)
    while nxt.weekday() >= 5:
        nxt += dt.timedelta(days=1)
    return nxt.month != day.month and day.weekday() < 5


def interest(annual_rate: float) -> Sizer:
    """Size a one-leg interest event: a month's interest on the balance (credit or debit)."""

    def size(legs: Legs, balance: dict[int, int]) -> Legs | None:
        i, _amt, detail, counter = legs[0]
        amount = int(balance[i] * annual_rate / 12)
        return ((i, amount, detail, counter),) if amount else None

    return size


def repay_in_full(legs: Legs, balance: dict[int, int]) -> Legs | None:
    """Size a card repayment: whatever the card (second leg) owes, from the first leg's account."""
    (src, _a, out_detail, _c), (card_idx, _b, in_detail, _d) = legs
    owed = -balance[card_idx]
    if owed <= 0:
        return None
    return ((src, -owed, out_detail, None), (card_idx, owed, in_detail, None))


def sweep(rate: float) -> Sizer:
    """Size a month-end sweep: 80% of the foreign balance converted home at ``rate``."""

    def size(legs: Legs, balance: dict[int, int]) -> Legs | None:
        (src, _a, out_detail, out_code), (home, _b, in_detail, in_code) = legs
        amount = balance[src] * 8 // 10
        if amount <= 0:
            return None
        return (
            (src, -amount, out_detail, out_code),
            (home, int(amount / rate), in_detail, in_code),
        )

    return size


def personal_current(rng: random.Random, day: dt.date, p: Plan) -> Iterator[Event]:
    """A salaried person's current account: pay, rent, bills, everyday card spending."""
    i, h = p.index, p.habits
    if day == p.opening_date:
        yield 8 * 3600, ((i, p.opening_amount, OPENING, "clearing:GBP"),)
    if last_working_day(day) and h.salary_detail:
        yield 6 * 3600, ((i, h.salary, h.salary_detail, "clearing:GBP"),)
    if day.day == 1 and h.rent_detail:
        yield 7 * 3600, ((i, -h.rent, h.rent_detail, "clearing:GBP"),)
    if day.day == 1 and day.month not in (2, 3) and h.council_detail:
        # Council tax: ten monthly instalments, April to January.
        yield 7 * 3600 + 60, ((i, -h.council_tax, h.council_detail, "clearing:GBP"),)
    for dd_day, amount, detail in h.utilities:
        if day.day == dd_day:
            yield 7 * 3600 + 120, ((i, -amount, detail, "clearing:GBP"),)
    for sub_day, merchant in h.subscriptions:
        if day.day == sub_day:
            yield _spend(rng, i, (merchant,), (2, 5))
    weekday = day.weekday() < 5
    if rng.random() < 0.35:
        yield _spend(rng, i, names.GROCERS, (8, 21))
    if rng.random() < (0.45 if weekday else 0.3):
        yield _spend(rng, i, names.EATING_OUT, (7, 22))
    if weekday and rng.random() < 0.8:
        yield _spend(
            rng, i, names.TRANSPORT[:1] if rng.random() < 0.8 else names.TRANSPORT, (7, 10)
        )
    if rng.random() < 0.1:
        yield _spend(rng, i, names.SHOPPING, (9, 23))
    if rng.random() < 0.04:
        amount = rng.randrange(2, 11) * 1000
        yield _sec(rng, 9, 22), ((i, -amount, ATM_DETAIL, "card-settlement:GBP"),)
    if h.savings_to is not None and h.savings_out and h.savings_in and day.day == 2:
        yield (
            9 * 3600,
            (
                (i, -h.savings_amount, h.savings_out, None),
                (h.savings_to, h.savings_amount, h.savings_in, None),
            ),
        )


def savings(rng: random.Random, day: dt.date, p: Plan) -> Iterator[Event]:
    """An easy-access saver earning monthly interest."""
    if day == p.opening_date:
        yield 8 * 3600, ((p.index, p.opening_amount, OPENING, "clearing:GBP"),)
    elif day.day == 1:
        yield 3 * 3600, ((p.index, 1, INTEREST_DETAIL, "interest:GBP"),), interest(0.035)


def credit_card(rng: random.Random, day: dt.date, p: Plan) -> Iterator[Event]:
    """A credit card for shopping and eating out, repaid in full monthly by direct debit."""
    i, h = p.index, p.habits
    if rng.random() < h.spend_rate:
        yield _spend(rng, i, names.SHOPPING + names.EATING_OUT, (9, 23), p.currency)
    if h.repaid_from is not None and h.repay_out and h.repay_in and day.day == 20:
        legs = ((h.repaid_from, -1, h.repay_out, None), (i, 1, h.repay_in, None))
        yield 10 * 3600, legs, repay_in_full
    if rng.random() < 0.01:
        m = rng.choice(names.SHOPPING)
        refund = card(m, cat.CARD_REFUND)
        yield _sec(rng, 9, 18), ((i, _minor(rng, 5, 60), refund, f"card-settlement:{p.currency}"),)


def business_current(rng: random.Random, day: dt.date, p: Plan) -> Iterator[Event]:
    """A business account: card takings, suppliers, payroll, VAT, rent, fees, loan instalments.

    With ``sales_per_day`` set, every card sale is booked on its own (a busy till), otherwise
    the acquirer settles the day's takings in one credit.
    """
    i, h = p.index, p.habits
    if day == p.opening_date:
        yield 8 * 3600, ((i, p.opening_amount, OPENING, "clearing:GBP"),)
    trading = day.weekday() < 6
    if trading and h.sales_per_day:
        rand = rng.random
        for _ in range(h.sales_per_day):
            # Opening hours 07:00-18:30; a sale of 1.80 to 32.00.
            second = 25200 + int(rand() * 41400)
            yield second, ((i, 180 + int(rand() * 3020), SALE_DETAIL, "card-settlement:GBP"),)
    elif trading:
        yield 5 * 3600, ((i, _minor(rng, 350, 1600), TAKINGS_DETAIL, "card-settlement:GBP"),)
    if day.weekday() in (0, 3) and h.suppliers:
        supplier = rng.choice(h.suppliers)
        yield _sec(rng, 9, 17), ((i, -_minor(rng, 150, 900), supplier, "clearing:GBP"),)
    if rng.random() < 0.3:
        yield _spend(rng, i, names.BUSINESS_SPEND, (8, 18))
    if day.day == 25:
        for amount, detail in h.payroll:
            yield 6 * 3600, ((i, -amount, detail, "clearing:GBP"),)
    if day.day == 1 and day.month in (1, 4, 7, 10) and h.rent_detail:
        yield 7 * 3600, ((i, -h.rent, h.rent_detail, "clearing:GBP"),)
    if day.day == 7 and day.month in (2, 5, 8, 11):
        yield 7 * 3600, ((i, -_minor(rng, 1800, 5200), VAT_DETAIL, "clearing:GBP"),)
    if day.day == 3:
        yield 4 * 3600, ((i, -_minor(rng, 25, 90), FEES_DETAIL, "fees:GBP"),)
    if h.loan is not None and day.day == 5 and day > p.opening_date:
        yield 9 * 3600, ((i, -h.instalment, LOAN_OUT, None), (h.loan, h.instalment, LOAN_IN, None))


def loan(rng: random.Random, day: dt.date, p: Plan) -> Iterator[Event]:
    """An SME loan: drawn into the business account on opening, interest charged monthly."""
    if day == p.opening_date and p.habits.drawdown_to is not None:
        yield (
            10 * 3600,
            (
                (p.index, -p.opening_amount, DRAWDOWN_OUT, None),
                (p.habits.drawdown_to, p.opening_amount, DRAWDOWN_IN, None),
            ),
        )
    elif day.day == 1:
        yield 2 * 3600, ((p.index, -1, LOAN_INTEREST, "interest:GBP"),), interest(0.079)


def fx_account(rng: random.Random, day: dt.date, p: Plan) -> Iterator[Event]:
    """A foreign-currency account: receipts from abroad swept home to sterling at month end,
    or supplier payments abroad funded by monthly conversions from sterling."""
    i, ccy, h = p.index, p.currency, p.habits
    if day == p.opening_date:
        yield 8 * 3600, ((i, p.opening_amount, OPENING, f"clearing:{ccy}"),)
    if h.payers and day.weekday() < 5 and rng.random() < 0.3:
        amount = _minor(rng, 2000 * h.scale, 15000 * h.scale)
        yield _sec(rng, 8, 16), ((i, amount, rng.choice(h.payers), f"clearing:{ccy}"),)
    if h.payees and day.weekday() == 2:
        amount = _minor(rng, 8000 * h.scale, 25000 * h.scale)
        yield _sec(rng, 3, 9), ((i, -amount, rng.choice(h.payees), f"clearing:{ccy}"),)
    if h.home is None:
        return
    if h.payees and h.fx_out and h.fx_in and day.day == 15:
        target = _minor(rng, 60000 * h.scale, 120000 * h.scale)
        yield (
            11 * 3600,
            (
                (h.home, -int(target / h.rate), h.fx_out, "fx-position:GBP"),
                (i, target, h.fx_in, f"fx-position:{ccy}"),
            ),
        )
    if h.payers and h.sweep_out and h.sweep_in and day.day == 28:
        legs = (
            (i, -1, h.sweep_out, f"fx-position:{ccy}"),
            (h.home, 1, h.sweep_in, "fx-position:GBP"),
        )
        yield 12 * 3600, legs, sweep(h.rate)
