"""The sandbox bank's credit decision: its rules and their thresholds, in one place.

:func:`decide` is a pure function of the applicant's account histories (as the
account-information contract gives them, see :class:`~sandbox.lending.measures.AccountHistory`)
and the requested loan (:class:`gateway.core.credit.CreditRequest`). It measures the history
(:func:`~sandbox.lending.measures.measure`) and applies the rules below (:func:`judge`, which
the bank's own summarising read feeds too), in this order:

======================  ===============================  ==================================
rule                    refer when                       decline when
======================  ===============================  ==================================
history                 fewer than 6 whole months        -
income level            -                                no income; below the minimum
                                                         (1,000 a month for a person, 4,000
                                                         turnover for a business)
income regularity       income in fewer than 10 of 12    -
                        months, or variation above 0.5
balance volatility      above 0.6 of monthly income      -
days overdrawn          above 30 (business: 60)          above 90 (business: 180)
returned payments       1 or 2                           3 or more
existing credit         -                                commitments above the debt cap
affordability           no instalment fits, and income   no instalment fits
                        is irregular or history short
======================  ===============================  ==================================

Affordability: the largest instalment the applicant can carry is the smaller of (income less
essential outgoings, existing commitments and a buffer) and (the debt cap share of income less
existing commitments). A person's buffer is 10% of income, at least 150; a business's 5% of
turnover, at least 500. The debt cap is 40% of a person's income and 25% of a business's
turnover.

Any decline reason declines; otherwise any refer reason refers (a person looks at it); otherwise
an instalment that fits approves, and one that does not is approved with conditions: the largest
amount that fits over the requested term and the shortest longer term (up to the product's
maximum) that fits for the requested amount, each with its instalment. When neither fits (the
lower amount would fall under the product's minimum), the application is declined.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Literal

from gateway.core.credit import Condition, CreditRequest, Decision, Outcome, Reason
from sandbox.lending.measures import AccountHistory, Measures, measure

# The thresholds; where people and businesses differ, by applicant kind.
MIN_HISTORY_MONTHS = 6
MIN_MONTHLY_INCOME = {"Personal": Decimal(1000), "Business": Decimal(4000)}
MIN_INCOME_MONTHS = 10  # of the twelve
MAX_INCOME_VARIATION = Decimal("0.5")
MAX_BALANCE_VOLATILITY = Decimal("0.6")
REFER_DAYS_OVERDRAWN = {"Personal": 30, "Business": 60}
DECLINE_DAYS_OVERDRAWN = {"Personal": 90, "Business": 180}
REFER_RETURNED_PAYMENTS = 1
DECLINE_RETURNED_PAYMENTS = 3
BUFFER_SHARE = {"Personal": Decimal("0.10"), "Business": Decimal("0.05")}
BUFFER_FLOOR = {"Personal": Decimal(150), "Business": Decimal(500)}
DEBT_CAP = {"Personal": Decimal("0.40"), "Business": Decimal("0.25")}
# Reasons that make the median month a poor measure of income: with one of them, a loan that
# does not fit is referred rather than declined.
DOUBTFUL_INCOME = frozenset({"ShortHistory", "IrregularIncome", "VolatileBalance"})
CENT = Decimal("0.01")
NIL = Decimal("0.00")
AMOUNT_STEP = Decimal(100)  # a lower amount offered is a whole number of hundreds


@dataclass(frozen=True, slots=True)
class Assessment(Decision):
    """A decision with the figures it was made from."""

    measures: Measures


def decide(
    histories: Sequence[AccountHistory], request: CreditRequest, as_of: dt.date
) -> Assessment:
    """Decide ``request`` from the applicant's ``histories`` as of ``as_of`` (see the module's
    rules)."""
    return judge(measure(histories, request.currency, as_of), request)


def judge(m: Measures, request: CreditRequest) -> Assessment:
    """Decide ``request`` on the applicant's measures ``m`` (see the module's rules)."""
    kind, ccy, asked = request.applicant, request.currency, request.instalment
    declines, refers = _conduct(m, kind, ccy)
    room = affordable_instalment(m, kind)
    if m.credit_commitments > DEBT_CAP[kind] * m.monthly_income > 0:
        text = f"Existing credit repayments of {ccy} {m.credit_commitments} a month are more"
        declines.append(Reason("ExistingCredit", f"{text} than {DEBT_CAP[kind]:.0%} of income."))
    conditions: tuple[Condition, ...] = ()
    if m.monthly_income > 0 and asked > room:
        conditions = _counter_offers(request, room)
        if not conditions:
            left = f"{ccy} {max(room, NIL)} a month is left for a new loan"
            text = f"After essential outgoings and existing credit, {left}, less than the"
            text = f"{text} {ccy} {asked} instalment, and no smaller loan or longer term fits."
            if any(r.code in DOUBTFUL_INCOME for r in refers):
                # The median month understates an irregular income: a person judges it.
                refers.append(Reason("AffordabilityUnclear", text))
            else:
                declines.append(Reason("Unaffordable", text))
    if declines:
        return Assessment(Outcome.DECLINE, (*declines, *refers), (), room, m)
    if refers:
        return Assessment(Outcome.REFER, tuple(refers), (), room, m)
    after = f"{ccy} {room} a month left after essential outgoings and existing credit"
    if conditions:
        text = f"The {ccy} {asked} instalment is more than the {after}; a smaller loan or"
        reason = Reason("AffordableWithChanges", f"{text} a longer term fits.")
        return Assessment(Outcome.APPROVE_WITH_CONDITIONS, (reason,), conditions, room, m)
    text = f"Regular income of {ccy} {m.monthly_income} a month leaves {ccy} {room} a month"
    text = f"{text} after essential outgoings and existing credit,"
    reason = Reason("Affordable", f"{text} enough for the {ccy} {asked} instalment.")
    return Assessment(Outcome.APPROVE, (reason,), (), room, m)


def affordable_instalment(m: Measures, kind: Literal["Personal", "Business"]) -> Decimal:
    """The largest monthly instalment the applicant can carry (negative when none)."""
    income = m.monthly_income
    buffer = max(BUFFER_FLOOR[kind], BUFFER_SHARE[kind] * income)
    left = income - m.essential_outgoings - m.credit_commitments - buffer
    capped = DEBT_CAP[kind] * income - m.credit_commitments
    return min(left, capped).quantize(CENT, ROUND_DOWN)


def _conduct(
    m: Measures, kind: Literal["Personal", "Business"], ccy: str
) -> tuple[list[Reason], list[Reason]]:
    """The reasons to decline and to refer that come from how the accounts are run."""
    declines, refers = _income(m, kind, ccy)
    if m.balance_volatility > MAX_BALANCE_VOLATILITY:
        swing = f"{m.balance_volatility:.0%} of monthly income"
        text = f"The balance swings by {swing} from one month to the next."
        refers.append(Reason("VolatileBalance", text))
    overdrawn = f"The account was overdrawn on {m.days_overdrawn} days in the last year."
    if m.days_overdrawn > DECLINE_DAYS_OVERDRAWN[kind]:
        declines.append(Reason("PersistentOverdraft", overdrawn))
    elif m.days_overdrawn > REFER_DAYS_OVERDRAWN[kind]:
        refers.append(Reason("FrequentOverdraft", overdrawn))
    returned = f"{m.returned_payments} payments were returned unpaid in the last year."
    if m.returned_payments >= DECLINE_RETURNED_PAYMENTS:
        declines.append(Reason("ReturnedPayments", returned))
    elif m.returned_payments >= REFER_RETURNED_PAYMENTS:
        refers.append(Reason("ReturnedPayment", returned))
    return declines, refers


def _income(
    m: Measures, kind: Literal["Personal", "Business"], ccy: str
) -> tuple[list[Reason], list[Reason]]:
    """The reasons to decline and to refer that come from the history's length and income."""
    declines: list[Reason] = []
    refers: list[Reason] = []
    if m.months < MIN_HISTORY_MONTHS:
        text = f"The accounts show {m.months} whole months of history; at least"
        text = f"{text} {MIN_HISTORY_MONTHS} are needed to decide automatically."
        refers.append(Reason("ShortHistory", text))
    if m.monthly_income <= 0:
        declines.append(Reason("NoIncome", "The accounts show no regular income."))
    elif m.monthly_income < MIN_MONTHLY_INCOME[kind]:
        text = f"Income of {ccy} {m.monthly_income} a month is below the {ccy}"
        declines.append(Reason("LowIncome", f"{text} {MIN_MONTHLY_INCOME[kind]} minimum."))
    elif (
        m.income_months < min(MIN_INCOME_MONTHS, m.months)
        or m.income_variation > MAX_INCOME_VARIATION
    ):
        text = f"Income reached half a typical month in {m.income_months} of {m.months} months"
        text = f"{text} and varies by {m.income_variation:.0%} from month to month."
        refers.append(Reason("IrregularIncome", text))
    return declines, refers


def instalment(amount: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    """The equal monthly instalment repaying ``amount`` over ``months`` at ``annual_rate``
    percent nominal (rounded to the cent)."""
    rate = annual_rate / 1200
    if not rate:
        return (amount / months).quantize(CENT, ROUND_HALF_UP)
    return (amount * rate / (1 - (1 + rate) ** -months)).quantize(CENT, ROUND_HALF_UP)


def _counter_offers(request: CreditRequest, room: Decimal) -> tuple[Condition, ...]:
    """A lower amount over the same term and a longer term for the same amount, where they fit
    in ``room`` and the product allows them."""
    offers: list[Condition] = []
    if room <= 0:
        return ()
    unit = instalment(AMOUNT_STEP, request.annual_rate, request.term_months)
    lower = (room / unit).to_integral_value(ROUND_DOWN) * AMOUNT_STEP
    while lower > 0 and instalment(lower, request.annual_rate, request.term_months) > room:
        lower -= AMOUNT_STEP
    if request.minimum_amount <= lower < request.amount:
        payment = instalment(lower, request.annual_rate, request.term_months)
        offers.append(Condition("LowerAmount", lower, request.term_months, payment))
    for term in range(request.term_months + 1, request.maximum_term_months + 1):
        payment = instalment(request.amount, request.annual_rate, term)
        if payment <= room:
            offers.append(Condition("LongerTerm", request.amount, term, payment))
            break
    return tuple(offers)
